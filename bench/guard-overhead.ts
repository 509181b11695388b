// What the edge guard costs. Two daemons in child processes on the default demo model, same
// settings but for the guard: "on" has API keys, an exact cors_origins list, allowed_hosts,
// trust_proxy and a rate limit high enough never to trip (so it is counted on every request);
// "off" has no keys and no rate limit (the Host and Origin checks cannot be turned off, so "off"
// sends only loopback Host and no Origin, which take their shortest path). Requests to "on"
// carry the key, an allowed Origin, an allowed non-loopback Host and X-Forwarded-For, so every
// check does its full work. Rounds alternate the daemons (A,B then B,A, ...) so drift on a
// shared machine hits both; ratios are taken per round and their spread is printed.
//
// Measured per daemon and round:
//   - /infer tokens/s, one stream: seeded requests one after another (same seeds on both
//     daemons, so both generate the very same tokens);
//   - /infer tokens/s, CONCURRENCY streams at once (parallel = CONCURRENCY slots);
//   - /healthz requests/s: an undici Pool, HEALTH_INFLIGHT requests in flight for HEALTH_MS.
//
//   npm run build && flock /tmp/inferd-bench.lock node dist/bench/guard-overhead.js
//   (BENCH_ROUNDS=5, BENCH_SEEDS=6, BENCH_CONCURRENCY=3, BENCH_HEALTH_MS=3000, BENCH_HEALTH_INFLIGHT=32)
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool, request } from 'undici';
import { writeDemoModel } from '../src/demo-model/index.js';
import { cpuSeconds, freePort, median, startConfiguredDaemon, stopChild } from './lib.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SEEDS = Number(process.env.BENCH_SEEDS ?? 6);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 3);
const HEALTH_MS = Number(process.env.BENCH_HEALTH_MS ?? 3000);
const HEALTH_INFLIGHT = Number(process.env.BENCH_HEALTH_INFLIGHT ?? 32);
const MAX_TOKENS = 256;
const PROMPT = 'Tell me how inferd streams tokens to a client.';
const SAMPLING = { temperature: 0.8, top_p: 0.95, top_k: 64 };
const TARGET = { infer: 0.97, healthz: 0.9 };

const KEY = 'bench-inference-key-0123456789abcdef';
const ORIGIN = 'http://dash.lan:8080';
const PUBLIC_HOST = 'llm.lan';

type Name = 'on' | 'off';
interface Daemon {
  name: Name;
  url: string;
  child: ChildProcess;
  /** Headers every request to this daemon carries. */
  headers: Record<string, string>;
  pool: Pool;
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const dir = await mkdtemp(join(tmpdir(), 'inferd-bench-'));
log('building the demo model');
const { path: modelPath } = await writeDemoModel(join(dir, 'demo.gguf'), 'default');

async function startDaemon(name: Name, guard: Record<string, unknown>, headers: Record<string, string>): Promise<Daemon> {
  const port = await freePort();
  const home = join(dir, name);
  const { child, url } = await startConfiguredDaemon(
    dir,
    name,
    {
      host: '127.0.0.1',
      port,
      model: { path: modelPath },
      threads: 1,
      parallel: CONCURRENCY,
      queue_depth: 16,
      unix_sockets: false,
      models_home: join(home, 'models'),
      runtime_dir: join(home, 'run'),
      // The per-request log line is the same on both; at warn it is not written, so what is left
      // to compare is the guard.
      log_level: 'warn',
      log_format: 'json',
      ...guard,
    },
    () => stopping,
  );
  return { name, url, child, headers, pool: new Pool(url, { connections: HEALTH_INFLIGHT, pipelining: 1 }) };
}

let stopping = false;
log('starting the two daemons');
const on = await startDaemon(
  'on',
  {
    api_keys: [KEY],
    cors_origins: [ORIGIN, 'https://dash.example.com'],
    allowed_hosts: ['llm.example.com', PUBLIC_HOST, '*.lan.example.com'],
    trust_proxy: ['127.0.0.1', '10.0.0.0/8'],
    rate_limit_per_minute: 1_000_000,
  },
  { host: PUBLIC_HOST, origin: ORIGIN, authorization: `Bearer ${KEY}`, 'x-forwarded-for': '192.168.1.20', 'x-forwarded-proto': 'http' },
);
const off = await startDaemon('off', { rate_limit_per_minute: 0 }, {});

/** One streamed /infer request; returns the completion tokens from its done frame. */
async function infer(d: Daemon, seed: number): Promise<number> {
  const res = await request(`${d.url}/infer`, {
    method: 'POST',
    headers: { ...d.headers, 'content-type': 'application/json', accept: 'application/x-ndjson' },
    body: JSON.stringify({ id: 'b', messages: [{ role: 'user', content: PROMPT }], max_tokens: MAX_TOKENS, seed, ...SAMPLING }),
  });
  let text = '';
  for await (const chunk of res.body) text += (chunk as Buffer).toString('utf8');
  if (res.statusCode !== 200) throw new Error(`${d.name}: /infer answered ${res.statusCode}: ${text.slice(0, 300)}`);
  const done = /"usage":\{"prompt_tokens":\d+,"completion_tokens":(\d+)/.exec(text);
  if (!done) throw new Error(`${d.name}: no done frame in ${text.slice(-200)}`);
  return Number(done[1]);
}

/** A count over a measured stretch: wall-clock seconds and the daemon's CPU seconds. */
interface Sample {
  count: number;
  wall: number;
  cpu: number | null;
}

async function sampled(d: Daemon, work: () => Promise<number>): Promise<Sample> {
  const cpu0 = cpuSeconds(d.child.pid!);
  const start = performance.now();
  const count = await work();
  const wall = (performance.now() - start) / 1000;
  const cpu1 = cpuSeconds(d.child.pid!);
  return { count, wall, cpu: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0 };
}

/** Tokens of `streams` concurrent streams, each running `perStream` seeded requests in turn. */
function inferTokens(d: Daemon, streams: number, perStream: number): Promise<Sample> {
  return sampled(d, async () => {
    const counts = await Promise.all(
      Array.from({ length: streams }, async (_, s) => {
        let tokens = 0;
        for (let i = 1; i <= perStream; i++) tokens += await infer(d, s * 1000 + i);
        return tokens;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  });
}

/** /healthz answers with HEALTH_INFLIGHT requests in flight for `ms`. */
function healthRequests(d: Daemon, ms: number): Promise<Sample> {
  return sampled(d, async () => {
    const deadline = performance.now() + ms;
    let ok = 0;
    await Promise.all(
      Array.from({ length: HEALTH_INFLIGHT }, async () => {
        while (performance.now() < deadline) {
          const res = await d.pool.request({ path: '/healthz', method: 'GET', headers: d.headers });
          await res.body.dump();
          if (res.statusCode !== 200) throw new Error(`${d.name}: /healthz answered ${res.statusCode}`);
          ok++;
        }
      }),
    );
    return ok;
  });
}

type Metric = 'single' | 'concurrent' | 'healthz';
const METRICS: Metric[] = ['single', 'concurrent', 'healthz'];
const results: Record<Name, Record<Metric, Sample[]>> = {
  on: { single: [], concurrent: [], healthz: [] },
  off: { single: [], concurrent: [], healthz: [] },
};
const wallRate = (s: Sample) => s.count / s.wall;
const cpuRate = (s: Sample) => (s.cpu && s.cpu > 0 ? s.count / s.cpu : NaN);

async function measure(d: Daemon): Promise<void> {
  results[d.name].single.push(await inferTokens(d, 1, SEEDS));
  results[d.name].concurrent.push(await inferTokens(d, CONCURRENCY, Math.max(1, Math.ceil(SEEDS / CONCURRENCY))));
  results[d.name].healthz.push(await healthRequests(d, HEALTH_MS));
}

log('warming up both daemons');
for (const d of [on, off]) {
  await inferTokens(d, CONCURRENCY, 1);
  await healthRequests(d, 500);
}
// The tokens are the same on both daemons (same seeds): a guard that changed a request would show here.
const sameTokens = (await infer(on, 1)) === (await infer(off, 1));

const ratio = (m: Metric, round: number, rate: (s: Sample) => number) => rate(results.on[m][round]!) / rate(results.off[m][round]!);
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? [on, off] : [off, on];
  for (const d of order) await measure(d);
  log(
    `round ${round + 1}/${ROUNDS} (${order.map((d) => d.name).join(',')}): ` +
      METRICS.map((m) => `${m} x${ratio(m, round, wallRate).toFixed(3)} (per CPU s x${ratio(m, round, cpuRate).toFixed(3)})`).join('; '),
  );
}

stopping = true;
for (const d of [on, off]) await d.pool.close();
await Promise.all([on, off].map((d) => stopChild(d.child)));
await rm(dir, { recursive: true, force: true });

const units: Record<Metric, string> = { single: 'tok/s', concurrent: 'tok/s', healthz: 'req/s' };
const labels: Record<Metric, string> = { single: '/infer 1 stream', concurrent: `/infer ${CONCURRENCY} streams`, healthz: '/healthz' };
const targets: Record<Metric, number> = { single: TARGET.infer, concurrent: TARGET.infer, healthz: TARGET.healthz };
const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
const f3 = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : '-');
console.log(
  `guard-overhead: default demo model, 1 thread, parallel ${CONCURRENCY}; ${ROUNDS} interleaved rounds; per round ${SEEDS} seeded /infer requests of up to ${MAX_TOKENS} tokens ` +
    `(1 stream, then ${CONCURRENCY} streams), /healthz for ${HEALTH_MS} ms with ${HEALTH_INFLIGHT} in flight`,
);
console.log(`guard on: keys, cors_origins, allowed_hosts, trust_proxy, rate limit; guard off: no keys, no rate limit. Same tokens on both: ${sameTokens ? 'yes' : 'NO'}`);
console.log('per round, on / off = ratio (wall clock; [per daemon CPU second])');
for (let round = 0; round < ROUNDS; round++) {
  console.log(
    `  round ${round + 1}: ` +
      METRICS.map((m) => {
        const a = results.on[m][round]!;
        const b = results.off[m][round]!;
        return `${labels[m]} ${f0(wallRate(a))} / ${f0(wallRate(b))} = ${f3(ratio(m, round, wallRate))} [${f3(ratio(m, round, cpuRate))}]`;
      }).join('; '),
  );
}
for (const [title, rate, unit] of [
  ['wall clock', wallRate, (m: Metric) => units[m]],
  ['per daemon CPU second (what the guard costs the daemon, less sensitive to other load)', cpuRate, (m: Metric) => `${units[m].split('/')[0]}/cpu-s`],
] as const) {
  console.log(`${title}:`);
  console.log('  metric               on (median)      off (median)      ratio on/off: median (min..max)   target   verdict');
  for (const m of METRICS) {
    const ratios = results.on[m].map((_, i) => ratio(m, i, rate)).filter(Number.isFinite);
    const r = median(ratios);
    console.log(
      `  ${labels[m].padEnd(18)} ${`${f0(median(results.on[m].map(rate)))} ${unit(m)}`.padStart(16)} ${`${f0(median(results.off[m].map(rate)))} ${unit(m)}`.padStart(17)}   ` +
        `${f3(r)} (${f3(Math.min(...ratios))}..${f3(Math.max(...ratios))})`.padEnd(34) +
        `>= ${targets[m].toFixed(2)}   ${Number.isFinite(r) ? (r >= targets[m] ? 'PASS' : 'MISS') : '-'}`,
    );
  }
}
