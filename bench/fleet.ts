// What a second daemon buys behind HAProxy, and what HAProxy adds to the first token. Per model,
// two daemons in child processes (1 thread, parallel 4), and two HAProxy instances run from the
// shipped deploy/haproxy/haproxy.cfg: one with daemon A alone, one with A and B. Rounds alternate
// the two fleets (1,2 then 2,1, ...) so drift on a shared machine hits both:
//
//   - aggregate tokens/s: CLIENTS clients, each sending REQUESTS seeded streaming /infer requests
//     one after another, through the proxy; the 2-daemon/1-daemon ratio is the scaling;
//   - time to first token (first model only): single requests, alternately direct to daemon A and
//     through the 1-daemon proxy (same daemon, so the difference is HAProxy's hop); p50 and p99.
//
// Two models, because they load a machine differently. The demo model is so small that a daemon
// spends most of each token in JavaScript (hand-off, framing, HTTP), so one daemon with 4 streams
// already keeps more than one of the 2 cores busy, beside the bench's own client and HAProxy.
// The medium f16 model (issue 12) is compute-bound like real models: one thread is one core, and
// a second daemon has a core of its own to use.
//
//   npm run build && flock /tmp/inferd-bench.lock node dist/bench/fleet.js
//   (BENCH_MODELS=demo,medium BENCH_ROUNDS=4, BENCH_CLIENTS=4, BENCH_REQUESTS=4, BENCH_TTFT=60;
//    HAPROXY=/usr/sbin/haproxy; MAKE_TINY_GGUF=path for the medium model)
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { writeDemoModel } from '../src/demo-model/index.js';
import { startHaproxy, type Haproxy } from '../test/helpers/haproxy.js';
import { freePort, median, mediumModel, quantile, startConfiguredDaemon, stopChild } from './lib.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4);
const TTFT_SAMPLES = Number(process.env.BENCH_TTFT ?? 60);
const MODELS = (process.env.BENCH_MODELS ?? 'demo,medium').split(',').filter(Boolean);
const MAX_TOKENS = 192;
const PROMPT = 'Tell me how inferd streams tokens to a client.';
const TARGET_SCALING = 1.7;

const HAPROXY = process.env.HAPROXY ?? ['/usr/sbin/haproxy', '/usr/bin/haproxy', '/usr/local/sbin/haproxy'].find((p) => existsSync(p));
if (!HAPROXY) {
  process.stderr.write('bench: haproxy not found (apt-get install haproxy, or set HAPROXY=/path/to/haproxy)\n');
  process.exit(2);
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const dir = await mkdtemp(join(tmpdir(), 'inferd-bench-'));

async function modelFile(name: string): Promise<string> {
  if (name === 'demo') return (await writeDemoModel(join(dir, 'demo.gguf'), 'default')).path;
  if (name === 'medium') return mediumModel(log);
  throw new Error(`unknown model ${name} (BENCH_MODELS takes demo and medium)`);
}

let stopping = false;
const children: ChildProcess[] = [];

async function startDaemon(name: string, modelPath: string): Promise<string> {
  const home = join(dir, name);
  const { child, url } = await startConfiguredDaemon(
    dir,
    name,
    {
      host: '127.0.0.1',
      port: await freePort(),
      model: { path: modelPath },
      threads: 1,
      parallel: CLIENTS,
      queue_depth: 16,
      unix_sockets: false,
      models_home: join(home, 'models'),
      runtime_dir: join(home, 'run'),
      trust_proxy: ['127.0.0.1'],
      log_level: 'warn',
      log_format: 'json',
    },
    () => stopping,
  );
  children.push(child);
  return url;
}

/**
 * Ready through a proxy: each backend must have passed its health checks (rise 2), so wait for
 * several consecutive 200s spread over the check interval, not just the first one.
 */
async function waitProxyReady(url: string, backends: number): Promise<void> {
  let ok = 0;
  while (ok < backends * 3) {
    try {
      const res = await request(`${url}/readyz`);
      await res.body.dump();
      ok = res.statusCode === 200 ? ok + 1 : 0;
    } catch {
      ok = 0;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One streamed /infer; returns its completion tokens and the time to the first token frame. */
async function infer(url: string, seed: number, maxTokens = MAX_TOKENS): Promise<{ tokens: number; ttft: number }> {
  const start = performance.now();
  const res = await request(`${url}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
    body: JSON.stringify({ id: 'f', messages: [{ role: 'user', content: PROMPT }], max_tokens: maxTokens, seed, temperature: 0.8 }),
  });
  let ttft = -1;
  let text = '';
  for await (const chunk of res.body) {
    if (ttft < 0) ttft = performance.now() - start;
    text += (chunk as Buffer).toString('utf8');
  }
  if (res.statusCode !== 200) throw new Error(`/infer via ${url} answered ${res.statusCode}: ${text.slice(0, 300)}`);
  const done = /"usage":\{"prompt_tokens":\d+,"completion_tokens":(\d+)/.exec(text);
  if (!done) throw new Error(`no done frame via ${url}: ${text.slice(-200)}`);
  return { tokens: Number(done[1]), ttft };
}

async function aggregate(url: string, round: number): Promise<number> {
  const start = performance.now();
  const counts = await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      let tokens = 0;
      for (let i = 0; i < REQUESTS; i++) tokens += (await infer(url, 1000 * round + 10 * client + i)).tokens;
      return tokens;
    }),
  );
  return counts.reduce((a, b) => a + b, 0) / ((performance.now() - start) / 1000);
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

let proxies: Haproxy[] = [];
const summary: string[] = [];
try {
  for (const [index, modelName] of MODELS.entries()) {
    const modelPath = await modelFile(modelName);
    log(`${modelName}: starting two daemons`);
    const a = await startDaemon(`${modelName}-a`, modelPath);
    const b = await startDaemon(`${modelName}-b`, modelPath);
    const portOf = (url: string) => Number(new URL(url).port);
    log(`${modelName}: starting HAProxy (${HAPROXY}) with 1 and with 2 backends`);
    // Each proxy writes its rendered config into its own folder.
    await mkdir(join(dir, `${modelName}-one`));
    await mkdir(join(dir, `${modelName}-two`));
    const one = await startHaproxy(HAPROXY, join(dir, `${modelName}-one`), [portOf(a)]);
    proxies.push(one);
    const two = await startHaproxy(HAPROXY, join(dir, `${modelName}-two`), [portOf(a), portOf(b)]);
    proxies.push(two);
    await waitProxyReady(one.url, 1);
    await waitProxyReady(two.url, 2);

    log(`${modelName}: warm-up`);
    await aggregate(two.url, 0);

    const ratios: number[] = [];
    const tps1: number[] = [];
    const tps2: number[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const order = r % 2 === 1 ? (['1', '2'] as const) : (['2', '1'] as const);
      const got: Record<'1' | '2', number> = { '1': 0, '2': 0 };
      for (const fleet of order) got[fleet] = await aggregate(fleet === '1' ? one.url : two.url, r);
      tps1.push(got['1']);
      tps2.push(got['2']);
      ratios.push(got['2'] / got['1']);
      console.log(`${modelName} round ${r}: 1 daemon ${fmt(got['1'])} tok/s, 2 daemons ${fmt(got['2'])} tok/s, scaling ${fmt(got['2'] / got['1'], 2)}x`);
    }
    const scaling = median(ratios);
    summary.push(
      `${modelName} model, aggregate tokens/s, ${CLIENTS} streaming clients, median of ${ROUNDS} rounds:`,
      `  1 daemon:  ${fmt(median(tps1))} tok/s`,
      `  2 daemons: ${fmt(median(tps2))} tok/s`,
      `  scaling:   ${fmt(scaling, 2)}x (rounds ${fmt(Math.min(...ratios), 2)}..${fmt(Math.max(...ratios), 2)}), target >= ${TARGET_SCALING}x: ${scaling >= TARGET_SCALING ? 'PASS' : 'MISS'}`,
    );

    if (index === 0) {
      log('time to first token, direct vs through HAProxy');
      const direct: number[] = [];
      const proxied: number[] = [];
      for (let i = 0; i < TTFT_SAMPLES; i++) {
        const [first, second] = i % 2 === 0 ? [a, one.url] : [one.url, a];
        const x = await infer(first, 5000 + i, 8);
        const y = await infer(second, 5000 + i, 8);
        (first === a ? direct : proxied).push(x.ttft);
        (second === a ? direct : proxied).push(y.ttft);
      }
      summary.push(
        `${modelName} model, time to first token (${TTFT_SAMPLES} each, ms): direct p50 ${fmt(median(direct), 2)} p99 ${fmt(quantile(direct, 0.99), 2)}; via HAProxy p50 ${fmt(median(proxied), 2)} p99 ${fmt(quantile(proxied, 0.99), 2)}`,
        `  added by HAProxy: p50 ${fmt(median(proxied) - median(direct), 2)} ms, p99 ${fmt(quantile(proxied, 0.99) - quantile(direct, 0.99), 2)} ms`,
      );
    }

    // One model's fleet at a time: the next one gets the whole machine.
    for (const p of proxies) await p.stop();
    proxies = [];
    stopping = true;
    await Promise.all(children.splice(0).map(stopChild));
    stopping = false;
  }
  console.log('');
  for (const line of summary) console.log(line);
} finally {
  stopping = true;
  for (const p of proxies) await p.stop();
  proxies = [];
  await Promise.all(children.map(stopChild));
  await rm(dir, { recursive: true, force: true });
}
