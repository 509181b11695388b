// How long does decoding a 1 MB JSON body block the event loop? Two bare Fastify apps on
// loopback: one with inferd's body parser (decodeJsonSliced: slices over several turns), one
// that decodes the same way in one task (decodeJson, the former parser), and the same for an
// infer.sock line read by readNdjson. Requests alternate between the two; for each one a 1 ms
// timer notes the longest gap between its ticks (wall) and the most process CPU time spent
// between two ticks (less sensitive to other processes on the machine). Medians and worst cases.
//
//   npm run build && node dist/bench/json-body.js          (BENCH_ROUNDS=12, BENCH_PROMPT_MB=1)
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { installJsonBodyParser } from '../src/http/json-body.js';
import { decodeJson } from '../src/protocol/json-decode.js';
import { loopCpuMeter } from './lib.js';
import { NdjsonDecoder, readNdjson } from '../src/protocol/ndjson-reader.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const PROMPT_BYTES = Number(process.env.BENCH_PROMPT_MB ?? 1) * 1024 * 1024;
const loadAtStart = loadavg()[0]!;

const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
let prompt = '';
while (Buffer.byteLength(prompt) < PROMPT_BYTES) prompt += readme;
prompt = prompt.slice(0, PROMPT_BYTES);
const body = Buffer.from(JSON.stringify({ id: 'big', messages: [{ role: 'user', content: prompt }], max_tokens: 0 }), 'utf8');

function contentLength(value: unknown): number {
  const messages = (value as { messages: Array<{ content: string }> }).messages;
  return messages[0]!.content.length;
}

async function app(sliced: boolean): Promise<{ app: FastifyInstance; url: string }> {
  const instance = Fastify({ bodyLimit: 8 * body.length });
  if (sliced) installJsonBodyParser(instance);
  else {
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, raw, done) => {
      try {
        done(null, decodeJson(typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
  }
  instance.post('/x', async (req) => ({ chars: contentLength(req.body) }));
  await instance.listen({ port: 0, host: '127.0.0.1' });
  const address = instance.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { app: instance, url: `http://127.0.0.1:${address.port}/x` };
}

interface Sample {
  loopMaxMs: number;
  cpuMaxMs: number;
}

async function measure(work: () => Promise<void>): Promise<Sample> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const cpuMeter = loopCpuMeter();
  await new Promise((resolve) => setTimeout(resolve, 3)); // both timers running first
  await work();
  // A task that blocked until now shows only as the next tick's delay: wait for that tick.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const cpuMax = cpuMeter.stop();
  histogram.disable();
  await new Promise((resolve) => setTimeout(resolve, 30)); // let the garbage of this one go
  return { loopMaxMs: histogram.max / 1e6, cpuMaxMs: cpuMax };
}

async function post(url: string): Promise<void> {
  const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const answer = (await res.body.json()) as { chars: number };
  if (res.statusCode !== 200 || answer.chars !== prompt.length) throw new Error(`HTTP ${res.statusCode}`);
}

/** One infer.sock-style line through readNdjson (sliced) or NdjsonDecoder.next() (one task). */
async function line(sliced: boolean): Promise<void> {
  const source = Readable.from([body, Buffer.from('\n')], { objectMode: false });
  let chars = 0;
  if (sliced) {
    for await (const item of readNdjson(source)) if (item.kind === 'frame') chars = contentLength(item.value);
  } else {
    const decoder = new NdjsonDecoder();
    for await (const chunk of source) {
      decoder.push(chunk as Buffer);
      for (let item = decoder.next(); item !== undefined; item = decoder.next()) if (item.kind === 'frame') chars = contentLength(item.value);
    }
  }
  if (chars !== prompt.length) throw new Error('NDJSON line not decoded');
}

const sliced = await app(true);
const oneTask = await app(false);
const cases = {
  'HTTP, one task': () => post(oneTask.url),
  'HTTP, sliced': () => post(sliced.url),
  'NDJSON line, one task': () => line(false),
  'NDJSON line, sliced': () => line(true),
} as const;
type Name = keyof typeof cases;
const samples = new Map<Name, Sample[]>();
for (let round = 0; round < ROUNDS + 2; round++) {
  for (const [name, work] of Object.entries(cases) as Array<[Name, () => Promise<void>]>) {
    const sample = await measure(work);
    if (round >= 2) samples.set(name, [...(samples.get(name) ?? []), sample]); // 2 warm-up rounds
  }
}
await sliced.app.close();
await oneTask.app.close();

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`json-body: ${(body.length / 1048576).toFixed(2)} MB body, ${ROUNDS} interleaved rounds (load average ${loadAtStart.toFixed(2)} → ${loadavg()[0]!.toFixed(2)})`);
console.log('case                     loop delay max ms (median / worst)   loop CPU max ms (median / worst)');
for (const [name, list] of samples) {
  const loop = list.map((s) => s.loopMaxMs);
  const cpu = list.map((s) => s.cpuMaxMs);
  console.log(
    `${name.padEnd(24)} ${`${median(loop).toFixed(1)} / ${Math.max(...loop).toFixed(1)}`.padStart(21)} ${`${median(cpu).toFixed(1)} / ${Math.max(...cpu).toFixed(1)}`.padStart(34)}`,
  );
}
