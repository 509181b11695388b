// Download + verify of a 1 GiB file from a loopback HTTPS server: our fetcher (pullModel:
// streaming SHA-256, partial file, fsync, rename, manifest) against `curl -o FILE` followed by
// `sha256sum FILE`, in the same run, interleaved, medians reported.
//
//   npm run build && node dist/bench/download.js            (BENCH_ROUNDS=3, BENCH_MIB=1024)
//
// The server runs in a worker thread, so it does not share an event loop with our client (curl
// is a separate process anyway). Both sides read the same bytes from the same server.
import { spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { startHttpsServer } from '../test/helpers/https-server.js';
import { ModelStore } from '../src/store/model-store.js';
import { pullModel } from '../src/download/pull.js';

interface ServerInfo {
  url: string;
  ca: string;
}

if (isMainThread) {
  await main();
} else {
  await serveInWorker();
}

async function serveInWorker(): Promise<void> {
  const body = Buffer.from(workerData.shared as SharedArrayBuffer);
  const server = await startHttpsServer({ '/big.gguf': { kind: 'file', body, etag: '"bench-1"' } });
  parentPort!.postMessage({ url: server.url('/big.gguf'), ca: server.ca } satisfies ServerInfo);
  parentPort!.once('message', () => void server.close().then(() => process.exit(0)));
}

async function main(): Promise<void> {
  const mib = Number(process.env.BENCH_MIB ?? 1024);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const size = mib * 1024 * 1024;
  const dir = await mkdtemp(join(tmpdir(), 'inferd-bench-'));
  const worker = await (async () => {
    process.stderr.write(`bench: generating ${mib} MiB of random bytes…\n`);
    const shared = new SharedArrayBuffer(size);
    const body = Buffer.from(shared);
    for (let off = 0; off < size; off += 64 * 1024 * 1024) randomFillSync(body, off, Math.min(64 * 1024 * 1024, size - off));
    body.write('GGUF', 0, 'latin1');
    const sha256 = createHash('sha256').update(body).digest('hex');
    const w = new Worker(new URL(import.meta.url), { workerData: { shared } });
    const info = await new Promise<ServerInfo>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    return { w, info, sha256 };
  })();
  const { info, sha256 } = worker;
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, info.ca);

  const ours: number[] = [];
  const curl: number[] = [];
  const curlOnly: number[] = [];
  try {
    for (let r = 1; r <= rounds; r++) {
      const order = r % 2 === 1 ? (['ours', 'curl'] as const) : (['curl', 'ours'] as const);
      for (const who of order) {
        let secs: number;
        if (who === 'ours') {
          secs = await runOurs(dir, info, sha256);
          ours.push(secs);
        } else {
          const c = await runCurl(dir, info, caFile, sha256);
          secs = c.total;
          curl.push(c.total);
          curlOnly.push(c.transfer);
        }
        process.stderr.write(`bench: round ${r} ${who.padEnd(4)} ${secs.toFixed(2)} s  ${(size / 1e6 / secs).toFixed(0)} MB/s\n`);
      }
    }
  } finally {
    worker.w.postMessage('stop');
    await new Promise((resolve) => worker.w.once('exit', resolve));
    await rm(dir, { recursive: true, force: true });
  }
  const mo = median(ours);
  const mc = median(curl);
  const line = (name: string, s: number) => `${name.padEnd(28)} median ${s.toFixed(2)} s  ${(size / 1e6 / s).toFixed(0)} MB/s`;
  process.stdout.write(`download + verify of ${mib} MiB over loopback HTTPS, ${rounds} rounds interleaved\n`);
  process.stdout.write(`${line('inferd pullModel', mo)}\n`);
  process.stdout.write(`${line('curl -o + sha256sum', mc)}\n`);
  process.stdout.write(`${line('  (curl -o alone)', median(curlOnly))}\n`);
  process.stdout.write(`ratio (inferd throughput / curl+sha256sum throughput): ${(mc / mo).toFixed(2)}\n`);
}

async function runOurs(dir: string, info: ServerInfo, sha256: string): Promise<number> {
  const root = join(dir, 'store');
  const store = await ModelStore.open(root);
  const t0 = performance.now();
  const res = await pullModel(store, { name: 'bench', sha256, url: info.url }, { caPem: info.ca });
  const secs = (performance.now() - t0) / 1000;
  if (res.source !== 'download') throw new Error('expected a download');
  await rm(root, { recursive: true, force: true });
  return secs;
}

async function runCurl(dir: string, info: ServerInfo, caFile: string, sha256: string): Promise<{ total: number; transfer: number }> {
  const file = join(dir, 'curl.gguf');
  const t0 = performance.now();
  await exec('curl', ['-sS', '--fail', '--cacert', caFile, '-o', file, info.url]);
  const t1 = performance.now();
  const out = await exec('sha256sum', [file]);
  const t2 = performance.now();
  if (!out.startsWith(sha256)) throw new Error(`curl download hashed to ${out.slice(0, 64)}`);
  await rm(file, { force: true });
  return { total: (t2 - t0) / 1000, transfer: (t1 - t0) / 1000 };
}

function exec(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
