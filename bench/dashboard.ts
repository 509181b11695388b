// What open dashboards cost the generation: one daemon (child process, default demo model,
// parallel=4) runs 4 concurrent streaming POST /infer generations per batch. Baseline rounds run
// with no dashboard open; "dashboards" rounds run the very same batches while 50 dashboards are
// open, each as the page opens them: one EventSource on /admin/status and one on /admin/load,
// all read continuously. Rounds alternate (off, on, on, off, …) so drift on a shared machine hits
// both sides alike. Prints per-round aggregate tokens/s, medians, the drop in % (median and the
// spread of the paired drops), the daemon's CPU time per generated token with and without
// dashboards (steadier than wall-clock tok/s on a shared machine; /proc/<pid>/stat) and its RSS
// per open dashboard (/proc/<pid>/status).
//
//   npm run build && flock /tmp/inferd-bench.lock node dist/bench/dashboard.js
//   (BENCH_DASHBOARDS=50, BENCH_ROUNDS=8 pairs, BENCH_BATCHES=8 per round, BENCH_THREADS=1,
//    BENCH_PAGES=0: that many real headless-Chromium pages instead of EventSource clients)
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventSource } from 'eventsource';
import { Agent, request } from 'undici';
import { writeDemoModel } from '../src/demo-model/index.js';
import { cpuSeconds, median, startDaemonOnFreePort, stopChild } from './lib.js';

const DASHBOARDS = Number(process.env.BENCH_DASHBOARDS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const BATCHES = Number(process.env.BENCH_BATCHES ?? 8);
const THREADS = Number(process.env.BENCH_THREADS ?? 1);
const PAGES = Number(process.env.BENCH_PAGES ?? 0);
const PARALLEL = 4;
const MAX_TOKENS = 256;
const PROMPT = 'Tell me how inferd streams tokens to a client.';
const SAMPLING = { temperature: 0.8, top_p: 0.95, top_k: 64 };

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = await mkdtemp(join(tmpdir(), 'inferd-bench-'));
log('building the demo model');
const { path: modelPath } = await writeDemoModel(join(dir, 'demo.gguf'), 'default');

log(`starting the daemon (parallel ${PARALLEL}, ${THREADS} thread(s))`);
const { child, url } = await startDaemonOnFreePort(
  ['--model', modelPath, '--threads', String(THREADS), '--parallel', String(PARALLEL), '--n-ctx', '2048', '--models-home', join(dir, 'models'), '--runtime-dir', join(dir, 'run'), '--log-level', 'info'],
  dir,
);

/** The daemon's resident set, from the kernel (the dashboards' clients live in this process). */
function daemonRss(): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  if (!match) throw new Error('no VmRSS for the daemon');
  return Number(match[1]) * 1024;
}

/**
 * CPU time the daemon used so far, in ms. Wall-clock tokens/s swings with whatever else runs on
 * a shared machine; the daemon's own CPU for the same tokens shows what the dashboards cost it
 * far more steadily.
 */
function daemonCpuMs(): number {
  const seconds = cpuSeconds(child.pid!);
  if (seconds === null) throw new Error('no CPU time for the daemon (needs /proc)');
  return seconds * 1000;
}

// The generations get their own connection pool, apart from the dashboards' streams.
const inferAgent = new Agent({ connections: PARALLEL * 2 });
async function generate(seed: number): Promise<number> {
  const res = await request(`${url}/infer`, {
    method: 'POST',
    dispatcher: inferAgent,
    headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
    body: JSON.stringify({ id: 'b', messages: [{ role: 'user', content: PROMPT }], max_tokens: MAX_TOKENS, seed, ...SAMPLING }),
  });
  let text = '';
  for await (const chunk of res.body) text += (chunk as Buffer).toString('utf8');
  const done = /"usage":\{"prompt_tokens":\d+,"completion_tokens":(\d+)/.exec(text);
  if (res.statusCode !== 200 || !done) throw new Error(`HTTP ${res.statusCode}, no done frame in ${text.slice(-200)}`);
  return Number(done[1]);
}

/** BATCHES batches of PARALLEL concurrent generations; aggregate tokens/s over the wall time. */
async function round(): Promise<{ tps: number; tokens: number; cpuMs: number }> {
  let tokens = 0;
  let seconds = 0;
  const cpuBefore = daemonCpuMs();
  for (let b = 0; b < BATCHES; b++) {
    const start = performance.now();
    const counts = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => generate(1 + b * PARALLEL + i)));
    seconds += (performance.now() - start) / 1000;
    tokens += counts.reduce((a, c) => a + c, 0);
  }
  return { tps: tokens / seconds, tokens, cpuMs: daemonCpuMs() - cpuBefore };
}

interface Dashboards {
  /** Messages (status frames and load snapshots) received so far, over all streams. */
  received(): number;
  close(): Promise<void>;
}

/** DASHBOARDS × (EventSource on admin/status + EventSource on admin/load), all open and read. */
async function openEventSources(): Promise<Dashboards> {
  let received = 0;
  const sources: EventSource[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < DASHBOARDS; i++) {
    for (const path of ['admin/status', 'admin/load']) {
      const source = new EventSource(`${url}/${path}`);
      source.onmessage = (event) => {
        // Parse like the page does, so the client side's cost is the page's.
        JSON.parse(event.data as string);
        received++;
      };
      sources.push(source);
      opened.push(
        new Promise<void>((resolve, reject) => {
          source.onopen = () => resolve();
          source.onerror = (err) => reject(new Error(`${path}: ${err.message ?? 'EventSource error'}`));
        }),
      );
    }
  }
  await Promise.all(opened);
  return {
    received: () => received,
    close: async () => {
      for (const s of sources) s.close();
    },
  };
}

/** PAGES real dashboards in headless Chromium (each opens both streams itself). */
async function openPages(): Promise<Dashboards> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // One context (profile) per page: within one profile Chromium keeps at most 6 HTTP/1.1
  // connections per host, and each dashboard holds 2 open streams, so a 4th tab would stall.
  const pages = await Promise.all(Array.from({ length: PAGES }, async () => (await browser.newContext()).newPage()));
  await Promise.all(pages.map((p) => p.goto(`${url}/`)));
  await Promise.all(pages.map((p) => p.locator('#conn[data-conn=live]').waitFor()));
  return {
    received: () => 0,
    close: () => browser.close(),
  };
}

const open = PAGES > 0 ? openPages : openEventSources;
const openCount = PAGES > 0 ? PAGES : DASHBOARDS;
const kind = PAGES > 0 ? 'headless Chromium pages' : 'dashboards (EventSource on admin/status + admin/load)';

log('warm-up round');
await round();

interface Row {
  off: number;
  on: number;
  /** Daemon CPU ms per 1000 generated tokens, without and with the dashboards. */
  cpuOff: number;
  cpuOn: number;
  tokens: number;
  rssOff: number;
  rssOn: number;
  perSecond: number;
}
const rows: Row[] = [];
async function withDashboards(): Promise<{ tps: number; tokens: number; cpuMs: number; rssOff: number; rssOn: number; perSecond: number }> {
  await sleep(300);
  const rssOff = daemonRss();
  const dashboards = await open();
  // Let every stream get its first snapshot and the daemon settle before measuring; Chromium
  // pages get longer, so that the browser's start-up is not counted as their running cost.
  await sleep(PAGES > 0 ? 6000 : 1500);
  const rssOn = daemonRss();
  const before = dashboards.received();
  const startedAt = performance.now();
  const on = await round();
  const perSecond = (dashboards.received() - before) / ((performance.now() - startedAt) / 1000);
  await dashboards.close();
  await sleep(300);
  return { ...on, rssOff, rssOn, perSecond };
}
/** The same pauses as withDashboards, so both sides start from the same idle time. */
async function withoutDashboards(): Promise<{ tps: number; tokens: number; cpuMs: number }> {
  await sleep(PAGES > 0 ? 6300 : 1800);
  const off = await round();
  await sleep(300);
  return off;
}
for (let r = 0; r < ROUNDS; r++) {
  // ABBA order (off/on, then on/off, …): whatever follows opening or closing 100 streams is
  // spread over both sides.
  const onFirst = r % 2 === 1;
  const on = onFirst ? await withDashboards() : undefined;
  const off = await withoutDashboards();
  const measured = on ?? (await withDashboards());
  if (measured.tokens !== off.tokens) log(`round ${r + 1}: token counts differ (off ${off.tokens}, on ${measured.tokens})`);
  rows.push({ off: off.tps, on: measured.tps, cpuOff: (off.cpuMs * 1000) / off.tokens, cpuOn: (measured.cpuMs * 1000) / measured.tokens, tokens: off.tokens, rssOff: measured.rssOff, rssOn: measured.rssOn, perSecond: measured.perSecond });
  log(`round ${r + 1}/${ROUNDS}: off ${off.tps.toFixed(0)} tok/s, on ${measured.tps.toFixed(0)} tok/s`);
}

await stopChild(child);
await inferAgent.close();
await rm(dir, { recursive: true, force: true });

const drops = rows.map((r) => (1 - r.on / r.off) * 100);
const cpuRise = rows.map((r) => (r.cpuOn / r.cpuOff - 1) * 100);
const perDashboard = rows.map((r) => (r.rssOn - r.rssOff) / openCount);
console.log(
  `dashboard: default demo model, parallel ${PARALLEL}, ${THREADS} thread(s); a round = ${BATCHES} batch(es) of ${PARALLEL} concurrent ` +
    `streaming /infer requests of up to ${MAX_TOKENS} tokens; ${ROUNDS} rounds each way, alternating; "on" = ${openCount} ${kind}`,
);
console.log('round   off tok/s   on tok/s    drop %   CPU ms/1k tok off   on   +%   msgs/s to clients   RSS +MiB   RSS per dashboard');
rows.forEach((r, i) => {
  console.log(
    `${String(i + 1).padStart(5)} ${r.off.toFixed(0).padStart(11)} ${r.on.toFixed(0).padStart(10)} ${drops[i]!.toFixed(2).padStart(9)} ` +
      `${r.cpuOff.toFixed(0).padStart(19)} ${r.cpuOn.toFixed(0).padStart(4)} ${cpuRise[i]!.toFixed(1).padStart(4)} ` +
      `${(PAGES > 0 ? '-' : r.perSecond.toFixed(0)).padStart(19)} ${((r.rssOn - r.rssOff) / 2 ** 20).toFixed(1).padStart(10)} ` +
      `${(perDashboard[i]! / 1024).toFixed(1).padStart(15)} KiB`,
  );
});
const sortedDrops = [...drops].sort((a, b) => a - b);
console.log(`tokens per round: ${rows[0]?.tokens} (same seeds both ways)`);
console.log(`median tok/s: off ${median(rows.map((r) => r.off)).toFixed(0)}, on ${median(rows.map((r) => r.on)).toFixed(0)}`);
console.log(
  `tok/s drop with ${openCount} open: median ${median(drops).toFixed(2)} % (paired rounds; min ${sortedDrops[0]!.toFixed(2)} %, ` +
    `max ${sortedDrops.at(-1)!.toFixed(2)} %); target < 3 %`,
);
const sortedRise = [...cpuRise].sort((a, b) => a - b);
console.log(
  `daemon CPU per generated token with ${openCount} open: median ${median(cpuRise) >= 0 ? '+' : ''}${median(cpuRise).toFixed(2)} % ` +
    `(min ${sortedRise[0]!.toFixed(2)} %, max ${sortedRise.at(-1)!.toFixed(2)} %; ${median(rows.map((r) => r.cpuOff)).toFixed(0)} vs ` +
    `${median(rows.map((r) => r.cpuOn)).toFixed(0)} ms per 1000 tokens)`,
);
console.log(
  `daemon RSS per open dashboard: median ${(median(perDashboard) / 1024).toFixed(1)} KiB ` +
    `(RSS without ${(median(rows.map((r) => r.rssOff)) / 2 ** 20).toFixed(1)} MiB)`,
);
