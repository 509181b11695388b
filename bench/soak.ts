// Soak: a real child daemon under mixed load for N minutes (bench/soak-load.ts has the mix: every
// API, admin subscribers coming and going, slow readers, cut-offs) with a reload every minute.
// Reports RSS and heap growth after warm-up, open fds against the idle baseline, event-loop delay
// p99 inside the daemon, and the requests that ended without a terminal frame.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, getGlobalDispatcher, request, setGlobalDispatcher } from 'undici';
import { CLI, median, quantile, waitReady } from './lib.js';
import { soakJobs, subscriberLoop, type SoakTarget } from './soak-load.js';

const USAGE = `usage: node dist/bench/soak.js [--minutes N] [--reload-every S] [--warmup-reloads K] [--trace]

Runs a child daemon (demo model, --parallel 2) under mixed load and reports RSS/heap growth after
warm-up, open fds against the idle baseline, event-loop p99, and requests without a terminal frame.

  --minutes N         how long to run (default 10)
  --reload-every S    seconds between reloads (default 60; 0 = no reloads)
  --warmup-reloads K  RSS and heap growth are measured from the end of the K-th reload on
                      (default 2): first → last reload cycle, each cycle's median of 5-s
                      samples. The start-up cycle includes building the demo model, so it is
                      not a baseline. Without reloads, warm-up is the first fifth of the run,
                      at most 60 s, and cycles are minutes.
  --trace             print one line per reload cycle (RSS anon/file, heap, threads, fds)
  --help              this text

The daemon inherits this process's environment, so glibc's malloc settings apply to it:
  MALLOC_MMAP_THRESHOLD_=131072 node dist/bench/soak.js   # the setting the README recommends

Targets: RSS growth < 5 % after warm-up, fds back to baseline, 0 requests without a terminal
frame. On a machine shared with other benchmarks, take the lock exclusively:
  npm run build && flock /tmp/inferd-bench.lock node dist/bench/soak.js               # 10 minutes
  npm run build && flock /tmp/inferd-bench.lock node dist/bench/soak.js --minutes 60  # an hour
`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`soak: --${name} needs a number ≥ 0\n${USAGE}`);
    process.exit(2);
  }
  return value;
};
const minutes = arg('minutes', 10);
const reloadEveryMs = arg('reload-every', 60) * 1000;
const warmupReloads = Math.floor(arg('warmup-reloads', 2));
const trace = process.argv.includes('--trace');

const probe = fileURLToPath(new URL('./soak-probe.js', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'inferd-soak-'));
const probeFile = join(home, 'probe.json');
const runtimeDir = join(home, 'run');

const child = spawn(
  process.execPath,
  ['--import', probe, CLI, 'serve', '--port', '0', '--runtime-dir', runtimeDir, '--models-home', join(home, 'models'), '--parallel', '2', '--log-format', 'json', '--log-level', 'info'],
  { env: { ...process.env, HOME: home, INFERD_CONFIG: '', SOAK_PROBE_FILE: probeFile }, stdio: ['ignore', 'ignore', 'pipe'] },
);
let stderr = '';
const url = await new Promise<string>((resolve, reject) => {
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 16)); // keep the tail only
    const match = /"url":"(http:\/\/[^"]+)"/.exec(stderr);
    if (match) resolve(match[1]!);
  });
  child.once('exit', (code) => reject(new Error(`daemon exited ${code}: ${stderr}`)));
});
const pid = child.pid!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fds = () => readdirSync(`/proc/${pid}/fd`).length;

interface Sample {
  at: number;
  rss: number;
  /** Anonymous memory (malloc, V8): where a leak or fragmentation shows. */
  anon: number;
  /** File-backed pages (the mmapped model, code): come and go with the page cache. */
  file: number;
  heap: number;
  /** V8's committed heap and its off-heap buffers: the part of `anon` that JS accounts for. */
  heapTotal: number;
  external: number;
  /** V8 heap in use right after the latest major GC (NaN before the first). */
  liveHeap: number;
  threads: number;
  fds: number;
}
/** RSS split and thread count from /proc, heap and event-loop delay from the daemon's probe. */
function sample(): Sample & { loopP99Ms: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  const probed = JSON.parse(readFileSync(probeFile, 'utf8')) as { heapUsed: number; heapTotal: number; external: number; liveHeap: number | null; loopP99Ms: number };
  return {
    at: Date.now(),
    rss: kb('VmRSS'),
    anon: kb('RssAnon'),
    file: kb('RssFile'),
    heap: probed.heapUsed,
    heapTotal: probed.heapTotal,
    external: probed.external,
    liveHeap: probed.liveHeap ?? NaN,
    threads: Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? NaN),
    fds: fds(),
    loopP99Ms: probed.loopP99Ms,
  };
}

/** Our own idle keep-alive connections are daemon fds too: close them before counting. */
async function quietFds(): Promise<number> {
  await getGlobalDispatcher().close();
  setGlobalDispatcher(new Agent());
  await sleep(1500);
  return fds();
}
await waitReady(url);
const baseline = { fds: await quietFds() };

const target: SoakTarget = { url, socketPath: join(runtimeDir, 'infer.sock'), counts: { ok: 0, refused: 0, cut: 0, missingTerminal: 0, errors: 0 } };
const startedAt = Date.now();
const end = startedAt + minutes * 60_000;
let stopping = false;
const over = () => stopping || Date.now() >= end;

/** When each reload cycle began (the daemon was ready again): the first cycle is the start. */
const cycleStarts: number[] = [startedAt];
async function worker(offset: number): Promise<void> {
  for (let i = offset; !over(); i++) await soakJobs[i % soakJobs.length]!(target).catch(() => target.counts.errors++);
}
async function reloads(): Promise<void> {
  if (reloadEveryMs === 0) return;
  while (!over()) {
    await sleep(Math.min(reloadEveryMs, end - Date.now()));
    if (Date.now() >= end) return;
    const res = await request(`${url}/admin/reload`, { method: 'POST' }).catch(() => null);
    await res?.body.dump();
    await waitReady(url);
    cycleStarts.push(Date.now());
  }
}

const samples: Sample[] = [];
const loopP99: number[] = [];
const sampler = setInterval(() => {
  try {
    const s = sample();
    samples.push(s);
    loopP99.push(s.loopP99Ms);
  } catch {
    // probe file being rewritten
  }
}, 5000);

await Promise.all([worker(0), worker(5), worker(9), subscriberLoop(target, over), subscriberLoop(target, over), reloads()]);
stopping = true;
clearInterval(sampler);
await sleep(1500); // let cut-off connections settle
const after = await quietFds();

// Without reloads, pseudo-cycles of 60 s stand in for them.
if (reloadEveryMs === 0) for (let t = startedAt + 60_000; t < end; t += 60_000) cycleStarts.push(t);
const cycles = cycleStarts.map((from, i) => {
  const to = cycleStarts[i + 1] ?? Infinity;
  const inCycle = samples.filter((s) => s.at >= from && s.at < to);
  const med = (key: keyof Sample) => median(inCycle.map((s) => s[key]).filter((v) => !Number.isNaN(v)));
  return { from, n: inCycle.length, rss: med('rss'), anon: med('anon'), file: med('file'), heap: med('heap'), heapTotal: med('heapTotal'), external: med('external'), liveHeap: med('liveHeap'), threads: med('threads'), fds: med('fds') };
}).filter((c) => c.n > 0);
const warmupEndsAt = reloadEveryMs === 0 ? startedAt + Math.min(60_000, (minutes * 60_000) / 5) : (cycleStarts[warmupReloads] ?? Infinity);
const warm = cycles.filter((c) => c.from >= warmupEndsAt);
const mib = (b: number) => (b / 1048576).toFixed(1);
const pct = (a: number, b: number) => `${b >= a ? '+' : ''}${((b / a - 1) * 100).toFixed(2)} %`;

child.kill('SIGTERM');
const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
rmSync(home, { recursive: true, force: true });

const counts = target.counts;
const malloc = Object.entries(process.env).filter(([k]) => k.startsWith('MALLOC_')).map(([k, v]) => `${k}=${v}`).join(' ') || 'glibc defaults';
const reloadCount = cycleStarts.length - 1;
console.log(`soak: ${minutes} min, ${reloadEveryMs === 0 ? 'no reloads' : `a reload every ${reloadEveryMs / 1000} s (${reloadCount} done)`}, daemon pid ${pid}, malloc: ${malloc}`);
console.log(`requests: ${counts.ok} complete, ${counts.cut} cut mid-stream on purpose, ${counts.refused} refused (429/503 during reloads), ${counts.errors} client errors`);
console.log(`ended without a terminal frame: ${counts.missingTerminal} (target 0)`);
if (trace) {
  for (const c of cycles) {
    console.log(`  cycle from ${((c.from - startedAt) / 1000).toFixed(0).padStart(4)} s: RSS ${mib(c.rss)} MiB (anon ${mib(c.anon)}, of which not V8 ${mib(c.anon - c.heapTotal)}; file ${mib(c.file)}), heap ${mib(c.heap)} MiB (after major GC ${mib(c.liveHeap)}, committed ${mib(c.heapTotal)}, external ${mib(c.external)}), threads ${c.threads}, fds ${c.fds}`);
  }
}
console.log(`RSS per ${reloadEveryMs === 0 ? 'minute' : 'reload cycle'} (median, MiB): ${cycles.map((c) => mib(c.rss)).join(' ')}`);
const first = warm[0];
const last = warm.at(-1);
if (first && last && warm.length >= 2) {
  const warmup = reloadEveryMs === 0 ? `the first ${((warmupEndsAt - startedAt) / 1000).toFixed(0)} s` : `${warmupReloads} reloads, ${((warmupEndsAt - startedAt) / 1000).toFixed(0)} s`;
  const peak = Math.max(...warm.map((c) => c.rss));
  console.log(`RSS after warm-up (${warmup}), first → last cycle: ${mib(first.rss)} → ${mib(last.rss)} MiB, growth ${pct(first.rss, last.rss)} (target < 5 %); peak ${mib(peak)} MiB (${pct(first.rss, peak)})`);
  // What V8 does not account for: llama.cpp, node-llama-cpp and malloc's own keeping.
  console.log(`  not V8 (anonymous − V8 committed heap): ${mib(first.anon - first.heapTotal)} → ${mib(last.anon - last.heapTotal)} MiB, growth ${pct(first.anon - first.heapTotal, last.anon - last.heapTotal)}`);
  console.log(`  anonymous ${mib(first.anon)} → ${mib(last.anon)} MiB, file-backed ${mib(first.file)} → ${mib(last.file)} MiB, threads ${first.threads} → ${last.threads}`);
  console.log(`heap after warm-up: ${mib(first.heap)} → ${mib(last.heap)} MiB, growth ${pct(first.heap, last.heap)}`);
  // The leak measure for JS: what survives a major GC. RSS above also carries uncollected garbage.
  console.log(`  live heap (in use right after a major GC): ${mib(first.liveHeap)} → ${mib(last.liveHeap)} MiB, growth ${pct(first.liveHeap, last.liveHeap)}`);
} else {
  console.log(`RSS after warm-up: too few cycles after ${warmupReloads} reloads to measure growth; run longer`);
}
console.log(`open fds: baseline ${baseline.fds}, after ${after} (target: back to baseline)`);
console.log(`event-loop delay p99 per second, in the daemon: median ${median(loopP99).toFixed(1)} ms, p90 ${quantile(loopP99, 0.9).toFixed(1)} ms, worst ${Math.max(...loopP99).toFixed(1)} ms`);
console.log(`daemon exit code after SIGTERM: ${exitCode}`);
