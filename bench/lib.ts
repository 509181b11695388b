// What the benchmarks share: starting a daemon in a child process, waiting for readiness,
// reading a child's CPU time, and the statistics every bench prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

export { freePort } from '../test/helpers/haproxy.js';

/** The built CLI, beside this file's output in dist/. */
export const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** The repository root (this file runs from dist/bench/). */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The compute-bound "medium" model of issue 12 (f16, 1024 embd x 8 layers, ~130 tok/s on one
 * core here), written once by the shared make-tiny-gguf tool into a cache outside the run's temp
 * dir, since it takes a while and benches reuse it. MAKE_TINY_GGUF overrides the tool's path.
 */
export async function mediumModel(log: (line: string) => void): Promise<string> {
  const cacheDir = join(tmpdir(), 'inferd-bench-models');
  await mkdir(cacheDir, { recursive: true });
  const out = join(cacheDir, 'medium-1024x8-f16.gguf');
  if (existsSync(out)) return out;
  const tool = process.env.MAKE_TINY_GGUF ?? [resolve(REPO, '../shared/tools/make-tiny-gguf.mjs'), resolve(REPO, '../../shared/tools/make-tiny-gguf.mjs')].find((p) => existsSync(p));
  if (!tool) throw new Error('the medium model needs make-tiny-gguf.mjs: set MAKE_TINY_GGUF=/path/to/make-tiny-gguf.mjs');
  log(`writing the medium model with ${tool}`);
  const args = [tool, '--mode', 'random', '--n-embd', '1024', '--n-layer', '8', '--n-ff', '2816', '--f16', '--corpus', join(REPO, 'README.md'), '--out', out];
  await new Promise<void>((ok, fail) => spawn(process.execPath, args, { stdio: 'inherit' }).once('exit', (code) => (code === 0 ? ok() : fail(new Error(`make-tiny-gguf exited ${code}`)))));
  return out;
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank quantile (q in 0..1): a value that was measured, never an interpolation. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * CPU seconds a process has used (user + system, all its threads), from /proc; null elsewhere.
 * On a shared machine wall-clock rates move with other people's load, while a daemon's CPU per
 * token or per request mostly does not, so benches report both.
 */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // utime and stime are the 12th and 13th fields after the ")" closing the command name;
    // USER_HZ is 100 on Linux.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Resident set size of a process in MiB, from /proc; NaN elsewhere. */
export function rssMiB(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Polls `url + path` until it answers 200; throws after `timeoutMs`. */
export async function waitReady(url: string, path = '/readyz', timeoutMs = 120_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await request(`${url}${path}`);
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${url}${path} never answered 200`);
}

export interface BenchDaemon {
  child: ChildProcess;
  url: string;
  /** The last few KB of its stderr, for an error message. */
  stderr(): string;
}

/**
 * `inferd serve --config <file>` in a child process, with `config` written to `<dir>/<name>.json`
 * and HOME at `<dir>/<name>`, waited for until ready. Its port comes from the config. A daemon
 * that exits while `expected()` is false ends the bench: its figures would be meaningless.
 */
export async function startConfiguredDaemon(dir: string, name: string, config: Record<string, unknown> & { port: number }, expected: () => boolean): Promise<BenchDaemon> {
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(config));
  const child = spawn(process.execPath, [CLI, 'serve', '--config', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, HOME: join(dir, name), INFERD_CONFIG: '' },
  });
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err = (err + chunk.toString('utf8')).slice(-4000)));
  child.once('exit', (code) => {
    if (!expected()) {
      process.stderr.write(`bench: daemon "${name}" exited ${code}: ${err}\n`);
      process.exit(1);
    }
  });
  const url = `http://127.0.0.1:${config.port}`;
  await waitReady(url);
  return { child, url, stderr: () => err };
}

/**
 * `inferd serve --port 0 <args>` in a child process, HOME at `home`; resolves with the URL the
 * daemon logs once it listens, then waits until it is ready. Its stderr keeps being drained (the
 * daemon logs a line per request), so it never blocks on a full pipe.
 */
export async function startDaemonOnFreePort(args: string[], home: string): Promise<BenchDaemon> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, HOME: home, INFERD_CONFIG: '' },
  });
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString('utf8')).slice(-16_000);
      const match = /"url":"(http:[^"]+)"/.exec(err);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`daemon exited ${code}: ${err}`)));
  });
  await waitReady(url);
  return { child, url, stderr: () => err };
}

/** SIGTERM, and wait for the exit (at once if it is gone already). */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * The longest stretch of this process's CPU time between two 1 ms ticks: how long one task held
 * the event loop, less sensitive to other load on the machine than the loop's wall-clock delay.
 */
export function loopCpuMeter(): { stop(): number } {
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  let max = 0;
  let last = cpuMs();
  const ticker = setInterval(() => {
    const now = cpuMs();
    max = Math.max(max, now - last);
    last = now;
  }, 1);
  return {
    stop: () => {
      clearInterval(ticker);
      return max;
    },
  };
}
