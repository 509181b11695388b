// Cold start to ready and idle memory: `inferd serve` with the default demo model, started N
// times in a child process, against llama.cpp's llama-server on the same GGUF when one is found.
// For inferd the admin status stream is followed from the moment the port answers, so every
// phase frame gets an arrival time; "ready" is the first `GET /readyz` 200 after the `ready`
// frame. RSS is read from /proc once ready and again after a second of idling.
//
//   npm run build && flock /tmp/inferd-bench.lock node dist/bench/start.js   (BENCH_ROUNDS=7)
//   LLAMA_SERVER=/path/to/llama-server (default ~/.cache/inferd/llama.cpp/build/bin/llama-server)
//   BENCH_CLI=/other/checkout/dist/src/cli/main.js   (another build of inferd, for before/after)
//
// The first inferd start of a run has an empty `cache_dir` but a built demo model; it is
// reported apart from the median of the others, which find the cache warm.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { DEMO_MODELS } from '../src/demo-model/index.js';
import { CLI, cpuSeconds, freePort, median, stopChild } from './lib.js';

const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 7));
const INFERD_CLI = process.env.BENCH_CLI ?? CLI;
const LLAMA_SERVER = process.env.LLAMA_SERVER ?? join(os.homedir(), '.cache/inferd/llama.cpp/build/bin/llama-server');
const POLL_MS = 5;
const IDLE_MS = 1000;

interface Run {
  /** Milliseconds from spawn to the first 200 of the readiness route. */
  readyMs: number;
  /** Milliseconds from spawn to the arrival of each status frame (inferd only). */
  phases: Map<string, number>;
  rssReadyMiB: number;
  rssIdleMiB: number;
  /** CPU seconds the process used until ready (all threads). */
  cpuS: number;
}

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

async function status(url: string): Promise<number> {
  const res = await request(url);
  await res.body.dump();
  return res.statusCode;
}

/** Polls until `url` answers 200, every POLL_MS; the child must stay alive meanwhile. */
async function until200(url: string, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited ${child.exitCode}`);
    try {
      if ((await status(url)) === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(POLL_MS);
  }
}

/** Follows /admin/status (NDJSON) from the first moment it answers, timing each frame's arrival. */
async function followPhases(base: string, t0: number, child: ChildProcess, phases: Map<string, number>): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`inferd exited ${child.exitCode}`);
    let res;
    try {
      res = await request(`${base}/admin/status`, { headers: { accept: 'application/x-ndjson' } });
    } catch {
      await sleep(POLL_MS);
      continue;
    }
    phases.set('listening', performance.now() - t0);
    let buffered = '';
    for await (const chunk of res.body) {
      buffered += (chunk as Buffer).toString('utf8');
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const frame = JSON.parse(buffered.slice(0, newline)) as { status: string; phase?: string };
        buffered = buffered.slice(newline + 1);
        const name = frame.phase ? `${frame.status}:${frame.phase}` : frame.status;
        if (!phases.has(name)) phases.set(name, performance.now() - t0);
        if (frame.status === 'ready') {
          res.body.destroy();
          return;
        }
        if (frame.status === 'failed') throw new Error(`inferd failed: ${buffered}`);
      }
    }
    throw new Error('the admin stream ended before ready');
  }
}

async function measure(child: ChildProcess, t0: number, readyUrl: string, phasesOf?: string): Promise<Run> {
  const phases = new Map<string, number>();
  if (phasesOf) await followPhases(phasesOf, t0, child, phases);
  await until200(readyUrl, child);
  const readyMs = performance.now() - t0;
  const cpuS = cpuSeconds(child.pid!) ?? NaN;
  const rssReadyMiB = rssMiB(child.pid!);
  await sleep(IDLE_MS);
  return { readyMs, phases, rssReadyMiB, rssIdleMiB: rssMiB(child.pid!), cpuS };
}

async function startInferd(dir: string, cacheDir: string): Promise<Run> {
  const port = await freePort();
  const args = [INFERD_CLI, 'serve', '--port', String(port), '--models-home', join(dir, 'models'), '--runtime-dir', join(dir, 'run'), '--log-level', 'warn'];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, HOME: dir, INFERD_CONFIG: '', INFERD_CACHE_DIR: cacheDir } });
  try {
    const base = `http://127.0.0.1:${port}`;
    return await measure(child, t0, `${base}/readyz`, base);
  } finally {
    await stopChild(child);
  }
}

async function startLlamaServer(model: string): Promise<Run> {
  const port = await freePort();
  // The daemon's defaults for the demo model: n_ctx 8192, one slot, one thread.
  const args = ['-m', model, '--port', String(port), '--host', '127.0.0.1', '-t', '1', '-tb', '1', '-c', '8192', '-np', '1', '--no-webui', '-lv', '0'];
  const t0 = performance.now();
  const child = spawn(LLAMA_SERVER, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    return await measure(child, t0, `http://127.0.0.1:${port}/health`);
  } finally {
    await stopChild(child);
  }
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

function summary(name: string, runs: Run[]): { ready: number; rss: number; line: string } {
  const ready = median(runs.map((r) => r.readyMs));
  const rss = median(runs.map((r) => r.rssIdleMiB));
  const spread = `${fmt(Math.min(...runs.map((r) => r.readyMs)))}-${fmt(Math.max(...runs.map((r) => r.readyMs)))}`;
  const line = `${name} | ${fmt(ready)} ms [${spread}] | ${fmt(median(runs.map((r) => r.cpuS)), 2)} s | ${fmt(median(runs.map((r) => r.rssReadyMiB)))} MiB | ${fmt(rss)} MiB`;
  return { ready, rss, line };
}

const dir = await mkdtemp(join(os.tmpdir(), 'inferd-bench-start-'));
try {
  // One start to put the demo model into the store: its build is a first-run cost, not a start cost.
  log('building the demo model into the bench store');
  await startInferd(dir, join(dir, 'cache-build'));

  const serverFound = existsSync(LLAMA_SERVER);
  if (!serverFound) log(`llama-server not found at ${LLAMA_SERVER}; inferd alone (see bench/vs-llama-server for how to build it)`);
  const modelPath = join(dir, 'models', 'blobs', 'sha256', DEMO_MODELS.default.sha256.slice(0, 2), DEMO_MODELS.default.sha256, 'data');

  // The first start finds `cache` empty and fills it; the rounds then find it warm.
  const first = await startInferd(dir, join(dir, 'cache'));
  const inferd: Run[] = [];
  const server: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Interleaved, so both see the same load on a shared machine.
    inferd.push(await startInferd(dir, join(dir, 'cache')));
    if (serverFound) server.push(await startLlamaServer(modelPath));
    log(`round ${round + 1}/${ROUNDS}: inferd ${fmt(inferd.at(-1)!.readyMs)} ms${serverFound ? `, llama-server ${fmt(server.at(-1)!.readyMs)} ms` : ''}`);
  }

  console.log(`start: demo model, ${ROUNDS} starts each, ${os.availableParallelism()} cores; median [min-max]; RSS from /proc (VmRSS), idle = ${IDLE_MS} ms after ready`);
  console.log('process | spawn to ready | CPU to ready | RSS at ready | idle RSS');
  console.log(`inferd, first start (empty caches) | ${fmt(first.readyMs)} ms | ${fmt(first.cpuS, 2)} s | ${fmt(first.rssReadyMiB)} MiB | ${fmt(first.rssIdleMiB)} MiB`);
  const ours = summary('inferd', inferd);
  console.log(ours.line);
  if (serverFound) {
    const theirs = summary('llama-server', server);
    console.log(theirs.line);
    console.log(`ratio inferd / llama-server: start ${fmt(ours.ready / theirs.ready, 1)}x, idle RSS ${fmt(ours.rss / theirs.rss, 1)}x`);
  }

  console.log('\ninferd phases (median ms from spawn to the frame\'s arrival on /admin/status)');
  const names = [...new Set(inferd.flatMap((r) => [...r.phases.keys()]))];
  for (const name of names) {
    const at = median(inferd.flatMap((r) => (r.phases.has(name) ? [r.phases.get(name)!] : [])));
    console.log(`${name.padEnd(32)} ${fmt(at).padStart(6)}`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
