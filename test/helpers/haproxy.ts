// The shipped deploy/haproxy/haproxy.cfg, rendered for a test or a benchmark: only the `bind`
// address and the `server` lines change, so what runs is the recipe users copy.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// From the sources (tests) or from dist/ (bench/fleet): the shipped file lives at the repo root.
export const HAPROXY_CFG = fileURLToPath(new URL(`${import.meta.url.includes('/dist/') ? '../../../' : '../../'}deploy/haproxy/haproxy.cfg`, import.meta.url));

/** A free TCP port on loopback (closed again, so a process can bind it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The shipped config with the frontend on `frontPort` and one server line per backend port. */
export function renderHaproxyConfig(frontPort: number, backendPorts: number[]): string {
  const shipped = readFileSync(HAPROXY_CFG, 'utf8');
  const binds = shipped.match(/^\s*bind \S+$/gm) ?? [];
  const servers = shipped.match(/^\s*server \S+ \S+ check$/gm) ?? [];
  if (binds.length !== 1 || servers.length === 0) throw new Error('deploy/haproxy/haproxy.cfg no longer has one `bind` line and `server ... check` lines');
  const indent = /^\s*/.exec(servers[0]!)![0];
  const lines = backendPorts.map((port, i) => `${indent}server inferd${i + 1} 127.0.0.1:${port} check`).join('\n');
  let first = true;
  return shipped
    .replace(/^(\s*)bind \S+$/m, `$1bind 127.0.0.1:${frontPort}`)
    .replace(/^\s*server \S+ \S+ check\n?/gm, () => (first ? ((first = false), `${lines}\n`) : ''));
}

export interface Haproxy {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts haproxy in the foreground (-db) on the rendered config, checked first with -c. */
export async function startHaproxy(binary: string, dir: string, backendPorts: number[]): Promise<Haproxy> {
  const port = await freePort();
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, renderHaproxyConfig(port, backendPorts));
  const child = spawn(binary, ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Listening is the only readiness haproxy offers without a stats socket: poll the port.
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`haproxy exited (${child.exitCode}):\n${out}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (i > 100) throw new Error(`haproxy did not start listening:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
