// What the benchmarks share: starting a daemon in a child process, waiting for readiness,
// reading a child's CPU time, and the statistics every bench prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

export { freePort } from '../test/helpers/haproxy.js';

/** The built CLI, beside this file's output in dist/. */
export const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

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

/** Polls `url + path` until it answers 200; throws after `timeoutMs`. */
export async function waitReady(url: string, path = '/readyz', timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await request(`${url}${path}`);
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
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
