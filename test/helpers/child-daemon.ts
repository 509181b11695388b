// `inferd serve` as a real child process (the built CLI in dist/), for what only a process can
// show: signals, exit codes, stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';

export const CLI = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface ChildDaemon {
  child: ChildProcess;
  /** Base URL once the daemon listens. */
  url: string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited: Promise<number | string>;
}

export async function spawnDaemon(t: Test, args: string[], env: Record<string, string> = {}): Promise<ChildDaemon> {
  const home = mkdtempSync(join(tmpdir(), 'inferd-child-'));
  // Defaults for a private daemon; a flag given in `args` (or a --config that sets the key) wins.
  const defaults: Array<[string, string]> = [
    ['--port', '0'],
    ['--runtime-dir', join(home, 'run')],
    ['--log-level', 'info'],
    ...(args.includes('--config') ? [] : ([['--models-home', join(home, 'models')]] as Array<[string, string]>)),
  ];
  const child = spawn(
    process.execPath,
    [CLI, 'serve', ...defaults.filter(([flag]) => !args.includes(flag)).flat(), ...args],
    { env: { ...process.env, HOME: home, INFERD_CONFIG: '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await rm(home, { recursive: true, force: true });
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
      const match = /"url":"(http:\/\/[^"]+)"/.exec(err);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`inferd exited (${code}) before listening:\n${err}`)));
  });
  return { child, url, stderr: () => err, exited };
}
