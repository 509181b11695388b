// Does a huge prompt stall the daemon? A daemon runs in this process (tiny demo model, a
// context big enough for a 1 MB prompt) while /healthz is polled every 5 ms. Phase "idle":
// nothing else happens. Phases "1 MB prompt": the same polling while a 1 MB user message comes in
// by POST /infer, POST /v1/chat/completions or infer.sock (max_tokens 0, so the request is
// decoding, validation and tokenizing only; evaluating 300k prompt tokens would take minutes
// here). The phases alternate; the worst /healthz latency
// and monitorEventLoopDelay's max and p99 are printed for each, with the time one single
// tokenize call of the same text takes (what the loop would be blocked for without pieces).
// "loop CPU max" is the most process CPU time spent between two ticks of a 1 ms timer: the
// longest stretch of work without a break, in CPU rather than wall time, so it stays readable
// when other processes hold the cores (wall-time delays then grow with the load).
//
//   npm run build && node dist/bench/event-loop.js         (BENCH_ROUNDS=3, BENCH_PROMPT_MB=1)
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { pino } from 'pino';
import { request } from 'undici';
import { loadConfig } from '../src/config/load.js';
import { Daemon } from '../src/daemon.js';
import { writeDemoModel } from '../src/demo-model/index.js';
import { loopCpuMeter } from './lib.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const loadAtStart = loadavg()[0]!;
const PROMPT_BYTES = Number(process.env.BENCH_PROMPT_MB ?? 1) * 1024 * 1024;
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

const dir = await mkdtemp(join(tmpdir(), 'inferd-bench-'));
const { path: modelPath } = await writeDemoModel(join(dir, 'tiny.gguf'), 'tiny');
const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
let prompt = '';
while (Buffer.byteLength(prompt) < PROMPT_BYTES) prompt += readme;
prompt = prompt.slice(0, PROMPT_BYTES);

const { config } = loadConfig({ env: {}, home: dir });
const daemon = await Daemon.create(
  { ...config, port: 0, models_home: join(dir, 'models'), runtime_dir: join(dir, 'run'), model: { path: modelPath }, threads: 1, n_ctx: 1048576, log_level: 'silent', body_limit: 8 * PROMPT_BYTES },
  { log: pino({ level: 'silent' }) },
);
await daemon.listen();
await daemon.start();
const url = `http://127.0.0.1:${daemon.port}`;

interface Phase {
  healthMaxMs: number;
  loopMaxMs: number;
  loopP99Ms: number;
  loopCpuMaxMs: number;
  polls: number;
}

/** Polls /healthz every 5 ms while `work` runs (or for `idleMs`). */
async function phase(work: (() => Promise<void>) | null, idleMs = 1500): Promise<Phase> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const cpuMeter = loopCpuMeter();
  let running = true;
  let healthMax = 0;
  let polls = 0;
  const poller = (async () => {
    while (running) {
      const start = performance.now();
      const res = await request(`${url}/healthz`);
      await res.body.dump();
      healthMax = Math.max(healthMax, performance.now() - start);
      polls++;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  if (work) await work();
  else await new Promise((r) => setTimeout(r, idleMs));
  running = false;
  await poller;
  const cpuMax = cpuMeter.stop();
  histogram.disable();
  return { healthMaxMs: healthMax, loopMaxMs: histogram.max / 1e6, loopP99Ms: histogram.percentile(99) / 1e6, loopCpuMaxMs: cpuMax, polls };
}

// Built once, outside the phases: serializing 1 MB here (~12 ms) is the client's work, and the
// client shares this event loop with the daemon, so it would count against the daemon.
const messages = [{ role: 'user', content: prompt }];
const bodies = {
  infer: Buffer.from(JSON.stringify({ id: 'big', messages, max_tokens: 0, stream: false })),
  openai: Buffer.from(JSON.stringify({ model: 'inferd-demo', messages, max_tokens: 0 })),
  socket: Buffer.from(`${JSON.stringify({ id: 'big', messages, max_tokens: 0 })}\n`),
};
let promptTokens = 0;

async function post(path: string, body: Buffer): Promise<string> {
  const res = await request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`big prompt on ${path}: ${res.statusCode} ${text.slice(0, 300)}`);
  return text;
}

/** One newline-delimited request on infer.sock; resolves with everything the daemon wrote. */
function socketRequest(body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(join(dir, 'run', 'infer.sock'));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (/"type":"(done|error)"/.test(text)) socket.end();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.write(body);
  });
}

const ways = {
  'POST /infer': async () => {
    const text = await post('/infer', bodies.infer);
    if (!text.includes('"done"')) throw new Error(`big prompt on /infer: ${text.slice(0, 300)}`);
    promptTokens = Number(/"prompt_tokens":(\d+)/.exec(text)?.[1]);
  },
  'POST /v1/chat/completions': async () => {
    const text = await post('/v1/chat/completions', bodies.openai);
    if (!text.includes('"prompt_tokens"')) throw new Error(`big prompt on /v1/chat/completions: ${text.slice(0, 300)}`);
  },
  'infer.sock': async () => {
    const text = await socketRequest(bodies.socket);
    if (!text.includes('"type":"done"')) throw new Error(`big prompt on infer.sock: ${text.slice(0, 300)}`);
  },
} as const;
type Way = keyof typeof ways;

log('warming up');
for (const work of Object.values(ways)) await phase(work);
const results: Record<'idle' | Way, Phase[]> = { idle: [], 'POST /infer': [], 'POST /v1/chat/completions': [], 'infer.sock': [] };
for (let round = 0; round < ROUNDS; round++) {
  results.idle.push(await phase(null));
  for (const [name, work] of Object.entries(ways) as Array<[Way, () => Promise<void>]>) results[name].push(await phase(work));
  log(`round ${round + 1}/${ROUNDS}`);
}
await daemon.shutdown();

// What one tokenize call of the same text blocks for, in this process (the old behaviour).
const llama = await getLlama({ build: 'never', gpu: false, maxThreads: 1, logLevel: LlamaLogLevel.warn });
const model = await llama.loadModel({ modelPath });
const oneCall: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  const start = performance.now();
  model.tokenize(prompt);
  oneCall.push(performance.now() - start);
}
await model.dispose();
await llama.dispose();
await rm(dir, { recursive: true, force: true });

const worst = (list: Phase[], key: keyof Phase) => Math.max(...list.map((p) => p[key]));
console.log(`event-loop: ${(PROMPT_BYTES / 1048576).toFixed(1)} MB user message (${promptTokens} prompt tokens), n_ctx 1048576, tiny demo model, ${ROUNDS} interleaved rounds (worst of each)`);
console.log(`${'phase'.padEnd(40)} /healthz max ms   loop delay max ms   loop delay p99 ms   loop CPU max ms   (load average ${loadAtStart.toFixed(2)} → ${loadavg()[0]!.toFixed(2)})`);
for (const name of Object.keys(results) as Array<keyof typeof results>) {
  const list = results[name];
  console.log(
    `${(name === 'idle' ? 'idle' : `1 MB prompt, ${name}`).padEnd(40)} ${worst(list, 'healthMaxMs').toFixed(1).padStart(15)} ${worst(list, 'loopMaxMs').toFixed(1).padStart(19)} ${worst(list, 'loopP99Ms').toFixed(1).padStart(19)} ${worst(list, 'loopCpuMaxMs').toFixed(1).padStart(17)}`,
  );
}
console.log(`one tokenize call of the same text: ${Math.min(...oneCall).toFixed(0)}-${Math.max(...oneCall).toFixed(0)} ms (the stall without pieces)`);
const prompts = [...results['POST /infer'], ...results['POST /v1/chat/completions'], ...results['infer.sock']];
console.log(`ratio prompt/idle, /healthz max: ${(worst(prompts, 'healthMaxMs') / worst(results.idle, 'healthMaxMs')).toFixed(2)}; worst loop delay during a 1 MB prompt: ${worst(prompts, 'loopMaxMs').toFixed(1)} ms (target 20)`);
