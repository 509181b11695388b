// Fan-out of the lifecycle stream: 1,000 SSE plus 1,000 NDJSON subscribers on GET /admin/status.
// The daemon runs in this process (so the bench can publish and read its RSS); the subscribers
// live in a child process. Reports publish-to-delivery latency (p50, p99) over all subscribers
// and the daemon's RSS per subscriber, against a baseline of a single subscriber measured in
// the same run.
//
//   npm run build && node dist/bench/admin-fanout.js     (BENCH_SUBSCRIBERS=1000 per framing, BENCH_EVENTS=200)
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { loadConfig } from '../src/config/load.js';
import { Daemon } from '../src/daemon.js';

const PER_FORMAT = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 200);
const GAP_MS = 10;

type FromChild = { kind: 'connected' } | { kind: 'received'; times: number[][] };
const now = () => performance.timeOrigin + performance.now();

if (process.argv[2] === 'subscribers') await subscribers(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
else await main();

/** The child: opens the streams, timestamps every progress frame by its sequence number. */
async function subscribers(url: string, perFormat: number, events: number): Promise<void> {
  const agent = new Agent({ connections: perFormat * 2 + 10, pipelining: 0 });
  const times: number[][] = [];
  const open = async (format: 'sse' | 'ndjson') => {
    const res = await request(`${url}/admin/status?format=${format}`, { dispatcher: agent });
    const mine: number[] = new Array(events).fill(0);
    times.push(mine);
    let pending = '';
    void (async () => {
      for await (const chunk of res.body) {
        const at = now();
        pending += (chunk as Buffer).toString('utf8');
        let index: number;
        while ((index = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, index);
          pending = pending.slice(index + 1);
          const match = /"downloaded_bytes":(\d+)/.exec(line);
          if (match) mine[Number(match[1])] = at;
        }
      }
    })();
  };
  const all: Promise<void>[] = [];
  for (let i = 0; i < perFormat; i++) all.push(open('sse'), open('ndjson'));
  await Promise.all(all);
  process.send!({ kind: 'connected' } satisfies FromChild);
  process.on('message', () => {
    process.send!({ kind: 'received', times } satisfies FromChild, () => process.exit(0));
  });
}

async function main(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'inferd-bench-'));
  const { config } = loadConfig({ env: {}, home });
  const daemon = await Daemon.create(
    { ...config, port: 0, unix_sockets: false, models_home: join(home, 'models'), log_level: 'silent', sse_heartbeat_ms: 60_000 },
    { log: pino({ level: 'silent' }) },
  );
  await daemon.listen();
  const url = `http://127.0.0.1:${daemon.port}`;
  const bus = daemon.lifecycle.bus;

  const run = async (perFormat: number) => {
    globalThis.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const child = fork(fileURLToPath(import.meta.url), ['subscribers', url, String(perFormat), String(EVENTS)], { stdio: 'inherit' });
    const message = (kind: FromChild['kind']) =>
      new Promise<FromChild>((resolve) => {
        const onMessage = (m: FromChild) => {
          if (m.kind === kind) {
            child.off('message', onMessage);
            resolve(m);
          }
        };
        child.on('message', onMessage);
      });
    await message('connected');
    while (bus.stats().subscribers < perFormat * 2) await new Promise((r) => setTimeout(r, 20));
    const rssConnected = process.memoryUsage().rss;
    const published: number[] = [];
    for (let n = 0; n < EVENTS; n++) {
      published[n] = now();
      bus.publish({ status: 'loading_model', phase: 'download', downloaded_bytes: n, total_bytes: EVENTS, source_url: 'https://example.com/model.gguf' });
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
    await new Promise((r) => setTimeout(r, 500));
    const received = message('received');
    child.send('report');
    const { times } = (await received) as Extract<FromChild, { kind: 'received' }>;
    const latencies: number[] = [];
    let missing = 0;
    for (const subscriber of times) {
      subscriber.forEach((at, n) => {
        if (at === 0) missing++;
        else latencies.push(at - published[n]!);
      });
    }
    await new Promise((r) => child.once('exit', r));
    while (bus.stats().subscribers > 0) await new Promise((r) => setTimeout(r, 20));
    latencies.sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
    return { subscribers: perFormat * 2, p50: pct(50), p99: pct(99), missing, rssPerSubscriber: (rssConnected - rssBefore) / (perFormat * 2) };
  };

  process.stderr.write('bench: baseline with one SSE and one NDJSON subscriber\n');
  const base = await run(1);
  process.stderr.write(`bench: ${PER_FORMAT} SSE + ${PER_FORMAT} NDJSON subscribers\n`);
  const many = await run(PER_FORMAT);
  await daemon.shutdown();
  await rm(home, { recursive: true, force: true });

  console.log(`admin-fanout: ${EVENTS} status events published ${GAP_MS} ms apart; latency = publish to delivery in the subscriber process`);
  console.log('subscribers   p50 ms   p99 ms   missed   daemon RSS per subscriber');
  for (const r of [base, many]) {
    console.log(`${String(r.subscribers).padStart(11)} ${r.p50.toFixed(2).padStart(8)} ${r.p99.toFixed(2).padStart(8)} ${String(r.missing).padStart(8)}   ${r.subscribers > 2 ? `${(r.rssPerSubscriber / 1024).toFixed(1)} KiB` : '-'}`);
  }
  console.log(`ratio ${many.subscribers} vs ${base.subscribers} subscribers: p50 x${(many.p50 / base.p50).toFixed(1)}, p99 x${(many.p99 / base.p99).toFixed(1)}`);
}
