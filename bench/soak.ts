// Soak: a real child daemon under mixed load for N minutes (default 10: `--minutes 60` for an
// hour). Streaming and non-streaming inference on every API (/infer NDJSON and SSE,
// /v1/chat/completions, /v1/completions, /v1/embeddings, infer.sock), admin subscribers that
// come and go, slow readers, clients that disconnect mid-stream, and a reload every minute.
// Reports RSS and heap growth after warm-up, open fds (/proc/<pid>/fd) against the idle
// baseline, event-loop delay p99 inside the daemon, and the requests that ended without a
// terminal frame. Targets: RSS growth < 5 %, fds back to baseline, 0 missing terminal frames.
//   npm run build && node dist/bench/soak.js [--minutes 10]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, getGlobalDispatcher, request, setGlobalDispatcher } from 'undici';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const minutes = arg('minutes', 10);
const warmupMs = Math.min(60_000, (minutes * 60_000) / 5);
const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const probe = fileURLToPath(new URL('./soak-probe.js', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'inferd-soak-'));
const probeFile = join(home, 'probe.json');
const runtimeDir = join(home, 'run');

const child = spawn(
  process.execPath,
  ['--import', probe, cli, 'serve', '--port', '0', '--runtime-dir', runtimeDir, '--models-home', join(home, 'models'), '--parallel', '2', '--log-format', 'json', '--log-level', 'info'],
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
const sample = () => JSON.parse(readFileSync(probeFile, 'utf8')) as { rss: number; heapUsed: number; loopP99Ms: number; loopMaxMs: number };

async function ready(): Promise<void> {
  for (;;) {
    const res = await request(`${url}/readyz`).catch(() => null);
    await res?.body.dump();
    if (res?.statusCode === 200) return;
    await sleep(100);
  }
}
/** Our own idle keep-alive connections are daemon fds too: close them before counting. */
async function quietFds(): Promise<number> {
  await getGlobalDispatcher().close();
  setGlobalDispatcher(new Agent());
  await sleep(1500);
  return fds();
}
await ready();
const baseline = { fds: await quietFds() };

const counts = { ok: 0, refused: 0, cut: 0, missingTerminal: 0, errors: 0 };
const messages = [{ role: 'user', content: 'tell me about the admin stream' }];
const json = { 'content-type': 'application/json' };

/** Streams one request; `mode` decides how the client reads. Checks the terminal frame. */
async function streamed(path: string, body: object, terminal: (last: string) => boolean, mode: 'normal' | 'slow' | 'cut', accept?: string): Promise<void> {
  const ac = new AbortController();
  const res = await request(`${url}${path}`, { method: 'POST', headers: { ...json, ...(accept ? { accept } : {}) }, body: JSON.stringify(body), signal: ac.signal });
  if (res.statusCode !== 200) {
    await res.body.dump();
    counts.refused++;
    return;
  }
  let text = '';
  try {
    for await (const chunk of res.body) {
      text += (chunk as Buffer).toString('utf8');
      if (mode === 'cut' && text.length > 40) {
        ac.abort();
        counts.cut++;
        return;
      }
      if (mode === 'slow') await sleep(20);
    }
  } catch (err) {
    if (mode === 'cut') return;
    throw err;
  }
  const lines = text.trim().split('\n').filter((l) => l.trim() !== '');
  if (terminal(lines.at(-1) ?? '')) counts.ok++;
  else counts.missingTerminal++;
}

const v1Terminal = (last: string) => /^(data: )?\{"type":"(done|error)"/.test(last);
const openAiTerminal = (last: string) => last === 'data: [DONE]' || last.startsWith('data: {"error"');

async function socketRequest(cut: boolean): Promise<void> {
  const path = join(runtimeDir, 'infer.sock');
  await new Promise<void>((resolve) => {
    const socket = connect(path);
    let text = '';
    socket.on('error', () => {
      counts.refused++; // infer.sock is absent while reloading
      resolve();
    });
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (cut && text.length > 40) {
        counts.cut++;
        socket.destroy();
        resolve();
        return;
      }
      const last = text.endsWith('\n') ? text.trim().split('\n').at(-1)! : '';
      if (/"type":"(done|error)"/.test(last)) {
        counts.ok++;
        socket.destroy();
        resolve();
      }
    });
    socket.on('end', () => {
      if (!/"type":"(done|error)"/.test(text.trim().split('\n').at(-1) ?? '')) counts.missingTerminal++;
      resolve();
    });
    socket.write(`${JSON.stringify({ id: 'soak', messages, max_tokens: 64 })}\n`);
  });
}

async function plain(path: string, body: object): Promise<void> {
  const res = await request(`${url}${path}`, { method: 'POST', headers: json, body: JSON.stringify(body) });
  await res.body.dump();
  if (res.statusCode === 200) counts.ok++;
  else counts.refused++;
}

const jobs: Array<() => Promise<void>> = [
  () => streamed('/infer', { messages, max_tokens: 64 }, v1Terminal, 'normal'),
  () => streamed('/infer', { messages, max_tokens: 64 }, v1Terminal, 'normal', 'text/event-stream'),
  () => streamed('/infer', { messages, max_tokens: 64 }, v1Terminal, 'slow'),
  () => streamed('/infer', { messages, max_tokens: 200 }, v1Terminal, 'cut'),
  () => streamed('/v1/chat/completions', { model: 'x', messages, max_tokens: 64, stream: true }, openAiTerminal, 'normal'),
  () => streamed('/v1/chat/completions', { model: 'x', messages, max_tokens: 200, stream: true }, openAiTerminal, 'cut'),
  () => streamed('/v1/completions', { model: 'x', prompt: 'the daemon', max_tokens: 64, stream: true }, openAiTerminal, 'slow'),
  () => plain('/infer', { messages, max_tokens: 32, stream: false }),
  () => plain('/v1/chat/completions', { model: 'x', messages, max_tokens: 32 }),
  () => plain('/v1/embeddings', { model: 'x', input: 'hello there' }),
  () => socketRequest(false),
  () => socketRequest(true),
];

const end = Date.now() + minutes * 60_000;
let stopping = false;
async function worker(offset: number): Promise<void> {
  for (let i = offset; !stopping && Date.now() < end; i++) {
    await jobs[i % jobs.length]!().catch(() => counts.errors++);
  }
}
async function subscribers(): Promise<void> {
  while (!stopping && Date.now() < end) {
    const ac = new AbortController();
    const res = await request(`${url}/admin/status`, { headers: { accept: 'text/event-stream' }, signal: ac.signal }).catch(() => null);
    setTimeout(() => ac.abort(), 500 + Math.random() * 2500);
    if (res) await res.body.dump().catch(() => undefined);
  }
}
async function reloads(): Promise<void> {
  while (!stopping && Date.now() < end) {
    await sleep(Math.min(60_000, end - Date.now()));
    if (Date.now() >= end) return;
    const res = await request(`${url}/admin/reload`, { method: 'POST' }).catch(() => null);
    await res?.body.dump();
    await ready();
  }
}

const rss: Array<{ at: number; rss: number; heap: number }> = [];
const loopP99: number[] = [];
const sampler = setInterval(() => {
  try {
    const s = sample();
    rss.push({ at: Date.now(), rss: s.rss, heap: s.heapUsed });
    loopP99.push(s.loopP99Ms);
  } catch {
    // probe file being rewritten
  }
}, 5000);

const startedAt = Date.now();
await Promise.all([worker(0), worker(5), worker(9), subscribers(), subscribers(), reloads()]);
stopping = true;
clearInterval(sampler);
await sleep(1500); // let cut-off connections settle
const after = await quietFds();

const warm = rss.filter((r) => r.at - startedAt >= warmupMs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const firstWindow = warm.slice(0, Math.max(1, Math.floor(warm.length / 4)));
const lastWindow = warm.slice(-Math.max(1, Math.floor(warm.length / 4)));
const growth = (key: 'rss' | 'heap') => median(lastWindow.map((r) => r[key])) / median(firstWindow.map((r) => r[key])) - 1;
const mib = (b: number) => (b / 1048576).toFixed(1);
const sortedLoop = [...loopP99].sort((a, b) => a - b);

child.kill('SIGTERM');
const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
rmSync(home, { recursive: true, force: true });

console.log(`soak: ${minutes} min, warm-up ${(warmupMs / 1000).toFixed(0)} s, daemon pid ${pid}`);
console.log(`requests: ${counts.ok} complete, ${counts.cut} cut mid-stream on purpose, ${counts.refused} refused (429/503 during reloads), ${counts.errors} client errors`);
console.log(`ended without a terminal frame: ${counts.missingTerminal} (target 0)`);
console.log(`RSS after warm-up: ${mib(median(firstWindow.map((r) => r.rss)))} → ${mib(median(lastWindow.map((r) => r.rss)))} MiB, growth ${(growth('rss') * 100).toFixed(2)} % (target < 5 %)`);
console.log(`heap after warm-up: ${mib(median(firstWindow.map((r) => r.heap)))} → ${mib(median(lastWindow.map((r) => r.heap)))} MiB, growth ${(growth('heap') * 100).toFixed(2)} %`);
console.log(`open fds: baseline ${baseline.fds}, after ${after} (target: back to baseline)`);
console.log(`event-loop delay p99 per second, in the daemon: median ${median(loopP99).toFixed(1)} ms, worst ${(sortedLoop.at(-1) ?? NaN).toFixed(1)} ms`);
console.log(`daemon exit code after SIGTERM: ${exitCode}`);
