// inferd against llama.cpp's own llama-server, built from the llama.cpp source node-llama-cpp
// 3.21.1 bundles. Same GGUF, same prompt, greedy, n_ctx 2048 per slot. Cases: the demo model and
// a compute-bound medium f16 model; 1 thread and all cores; 1 stream and 4; time to first token
// for a long prompt uncached and cached. inferd runs on the prebuilt binary and on the native
// build (`inferd engine build`) when present. For each server configuration the servers are
// started side by side and the rounds alternate between them; ratios inferd / llama-server are
// computed per round and printed as median [min-max].
//
//   npm run build && LLAMA_SERVER=/path/to/llama-server node dist/bench/vs-llama-server.js
//   env: BENCH_ROUNDS=3, BENCH_TOKENS=256, BENCH_MODELS=demo,medium, BENCH_THREADS=1,all,
//        BENCH_STREAMS=1,4, BENCH_BINARIES=prebuilt,native, MAKE_TINY_GGUF=path of make-tiny-gguf.mjs
//
// Without LLAMA_SERVER (or --llama-server PATH) the bench prints how to build one.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { writeDemoModel } from '../src/demo-model/index.js';
import { findNativeBuild } from '../src/engine/native-build.js';
import { CLI, freePort, median, mediumModel, REPO as repo, rssMiB, waitReady } from './lib.js';

const flag = process.argv.indexOf('--llama-server');
const LLAMA_SERVER = (flag > 0 ? process.argv[flag + 1] : undefined) ?? process.env.LLAMA_SERVER ?? join(os.homedir(), '.cache/inferd/llama.cpp/build/bin/llama-server');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TOKENS = Number(process.env.BENCH_TOKENS ?? 256);
const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').filter(Boolean);
const MODELS = list('BENCH_MODELS', 'demo,medium');
const CORES = os.availableParallelism();
const THREADS = [...new Set(list('BENCH_THREADS', '1,all').map((t) => (t === 'all' ? CORES : Number(t))))];
const STREAMS = list('BENCH_STREAMS', '1,4').map(Number);
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

if (!existsSync(LLAMA_SERVER)) {
  process.stderr.write(`llama-server not found at ${LLAMA_SERVER}. Build it once (about 6-15 minutes) from the llama.cpp
source node-llama-cpp bundles, outside this repository:

  git clone ${join(repo, 'node_modules/node-llama-cpp/llama/gitRelease.bundle')} ~/.cache/inferd/llama.cpp
  cd ~/.cache/inferd/llama.cpp
  cmake -B build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF
  cmake --build build --target llama-server -j

then run this bench again (or pass LLAMA_SERVER=/path/to/llama-server).
`);
  process.exit(2);
}

const dir = await mkdtemp(join(os.tmpdir(), 'inferd-bench-'));

async function modelFile(name: string): Promise<string> {
  if (name === 'demo') return (await writeDemoModel(join(dir, 'demo.gguf'), 'default')).path;
  return mediumModel(log);
}

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  /** From spawn to the first 200 of its readiness endpoint (polled every 5 ms). */
  startMs: number;
}

async function startInferd(binary: 'prebuilt' | 'native', model: string, threads: number, streams: number): Promise<Server> {
  const port = await freePort();
  const home = await mkdtemp(join(dir, 'home-'));
  const args = [CLI, 'serve', '--port', String(port), '--model', model, '--threads', String(threads), '--parallel', String(streams), '--n-ctx', '2048', '--queue-depth', '16', '--models-home', join(home, 'models'), '--runtime-dir', join(home, 'run')];
  const env = { ...process.env, HOME: home, INFERD_CONFIG: '', INFERD_ENGINE_BINARY: binary === 'native' ? 'auto' : 'prebuilt', INFERD_LOG_LEVEL: 'warn' };
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], env });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, '/readyz', 120_000, 5);
  return { name: `inferd-${binary}`, url, child, startMs: performance.now() - started };
}

async function startLlamaServer(model: string, threads: number, streams: number): Promise<Server> {
  const port = await freePort();
  const args = ['-m', model, '--port', String(port), '--host', '127.0.0.1', '-t', String(threads), '-tb', String(threads), '-c', String(2048 * streams), '-np', String(streams), '--no-webui', '-lv', '0'];
  const started = performance.now();
  const child = spawn(LLAMA_SERVER, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, '/health', 120_000, 5);
  return { name: 'llama-server', url, child, startMs: performance.now() - started };
}

async function stop(server: Server): Promise<void> {
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
}

const SHORT = 'Tell me how a local inference daemon streams tokens to a client.';
const readme = await readFile(join(repo, 'README.md'), 'utf8');
const LONG = readme.slice(0, 2400);

/** One chat completion; returns completion tokens, seconds and time to the first content. */
async function chat(url: string, content: string, maxTokens: number): Promise<{ tokens: number; seconds: number; ttftMs: number }> {
  const start = performance.now();
  const res = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'x', messages: [{ role: 'user', content }], max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } }),
  });
  let first = 0;
  let text = '';
  for await (const chunk of res.body) {
    const piece = (chunk as Buffer).toString('utf8');
    if (!first && piece.includes('"content":"') && !/"content":""/.test(piece)) first = performance.now();
    text += piece;
  }
  const seconds = (performance.now() - start) / 1000;
  const usage = /"completion_tokens":(\d+)/.exec(text);
  if (res.statusCode !== 200 || !usage) throw new Error(`${url}: ${res.statusCode} ${text.slice(-300)}`);
  return { tokens: Number(usage[1]), seconds, ttftMs: (first || performance.now()) - start };
}

const rows = new Map<string, { higherIsBetter: boolean; values: Map<string, number[]> }>();
function record(key: string, server: string, value: number, higherIsBetter: boolean): void {
  const row = rows.get(key) ?? { higherIsBetter, values: new Map() };
  rows.set(key, row);
  row.values.set(server, [...(row.values.get(server) ?? []), value]);
}

async function measure(server: Server, label: string, streams: number, round: number): Promise<void> {
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: streams }, () => chat(server.url, SHORT, TOKENS)));
  const wall = (performance.now() - t0) / 1000;
  record(`${label} | ${streams === 1 ? '1 stream' : `${streams} streams aggregate`} | decode tok/s`, server.name, runs.reduce((s, r) => s + r.tokens, 0) / wall, true);
  if (streams !== 1) return;
  // A long prompt that no slot has seen (the round number and server name make it unique at
  // its start), then the very same prompt again: the second one reuses the slot's KV cache.
  const fresh = `Round ${round} ${server.name} ${Math.random()}: ${LONG}`;
  const uncached = await chat(server.url, fresh, 1);
  const cached = await chat(server.url, fresh, 1);
  record(`${label} | long prompt | TTFT uncached ms`, server.name, uncached.ttftMs, false);
  record(`${label} | long prompt | TTFT cached ms`, server.name, cached.ttftMs, false);
}

const native = await findNativeBuild();
await native?.dispose();
const binaries = list('BENCH_BINARIES', 'prebuilt,native').filter((b) => b !== 'native' || native !== null) as Array<'prebuilt' | 'native'>;
if (!native) log('no native build (run `inferd engine build`); measuring the prebuilt binary only');

for (const modelName of MODELS) {
  const model = await modelFile(modelName);
  for (const threads of THREADS) {
    for (const streams of STREAMS) {
      const label = `${modelName}, ${threads} thread${threads > 1 ? 's' : ''}`;
      log(`${label}, ${streams} stream(s): starting servers`);
      const servers = [await startLlamaServer(model, threads, streams)];
      for (const binary of binaries) servers.push(await startInferd(binary, model, threads, streams));
      for (const server of servers) {
        // Started one after another on a quiet machine: cold start to ready, and the resident
        // memory once ready, before any request.
        record(`${label} | ${streams} slot(s) | cold start to ready ms`, server.name, server.startMs, false);
        record(`${label} | ${streams} slot(s) | RSS when ready MiB`, server.name, rssMiB(server.child.pid!), false);
      }
      for (const server of servers) await chat(server.url, SHORT, 16); // warm-up
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate the order too, so neither side always runs first.
        const order = round % 2 === 0 ? servers : [...servers].reverse();
        for (const server of order) await measure(server, label, streams, round);
      }
      for (const server of servers) await stop(server);
    }
  }
}
await rm(dir, { recursive: true, force: true });

console.log(`vs-llama-server: ${TOKENS} greedy tokens, n_ctx 2048 per slot, ${ROUNDS} interleaved rounds, ${CORES} cores; ratio = inferd / llama-server per round, median [min-max]`);
console.log('case | llama-server | ' + binaries.map((b) => `inferd ${b} | ratio`).join(' | '));
for (const [key, row] of rows) {
  const base = row.values.get('llama-server') ?? [];
  const cells = binaries.map((b) => {
    const mine = row.values.get(`inferd-${b}`) ?? [];
    // One value per configuration (start, RSS) is paired with llama-server's single value.
    const ratios = mine.map((v, i) => v / (base[i] ?? base[0] ?? NaN));
    return `${median(mine).toFixed(1)} | ${median(ratios).toFixed(2)} [${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}]`;
  });
  console.log(`${key} | ${median(base).toFixed(1)} | ${cells.join(' | ')}`);
}
console.log('(decode: higher is better, so ratio > 1 means inferd is faster; TTFT, start and RSS: lower is better, ratio < 1 means inferd is faster or smaller)');
// Issue 12's cached target compares a cached prefix with what a first request costs on
// llama-server: inferd's cached TTFT over llama-server's uncached TTFT, per round.
for (const [key, row] of rows) {
  if (!key.endsWith('TTFT cached ms')) continue;
  const uncached = rows.get(key.replace('TTFT cached ms', 'TTFT uncached ms'))?.values.get('llama-server') ?? [];
  for (const b of binaries) {
    const ratios = (row.values.get(`inferd-${b}`) ?? []).map((v, i) => v / (uncached[i] ?? NaN));
    console.log(`${key.replace(' | TTFT cached ms', '')} | inferd ${b} cached / llama-server uncached | ${median(ratios).toFixed(2)} [${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}]`);
  }
}
