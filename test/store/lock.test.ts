// Writer locks: exclusive across processes, queued in-process, stale ones taken over.
import t from 'tap';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { readFile, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock, tryAcquireLock } from '../../src/store/lock.js';
import { tempDir } from './fixtures/temp-store.js';

function lockBody(pid: number): string {
  return JSON.stringify({ pid, hostname: hostname(), created_at: new Date().toISOString() });
}

/** A pid that certainly belonged to a process which has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

t.test('a lock is exclusive; release lets the next holder in; the file names the holder', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'x.lock');
  const held = await acquireLock(path, { purpose: 'test' });
  t.match(JSON.parse(await readFile(path, 'utf8')), { pid: process.pid, hostname: hostname(), purpose: 'test' });
  t.equal(await tryAcquireLock(path), null, 'a second acquirer in this process does not get it');
  await held.release();
  const again = await tryAcquireLock(path);
  t.ok(again, 'free after release');
  await again!.release();
  t.same(await readdir(dir), [], 'no lock or temp files left');
});

t.test('in-process callers queue in order', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'q.lock');
  const order: number[] = [];
  await Promise.all(
    [1, 2, 3].map(async (n) => {
      const l = await acquireLock(path);
      order.push(n);
      await new Promise((r) => setImmediate(r));
      order.push(-n);
      await l.release();
    }),
  );
  t.same(order, [1, -1, 2, -2, 3, -3], 'never two holders at once');
});

t.test('a lock held by a dead pid is taken over', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'stale.lock');
  const pid = await deadPid();
  await writeFile(path, lockBody(pid));
  const l = await acquireLock(path, { timeoutMs: 2_000, pollMs: 10 });
  t.equal(JSON.parse(await readFile(path, 'utf8')).pid, process.pid);
  await l.release();
});

t.test('a lock held by a live process waits, then fails clearly at the timeout', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'live.lock');
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.teardown(() => child.kill('SIGKILL'));
  await writeFile(path, lockBody(child.pid!));
  let waited = 0;
  await t.rejects(acquireLock(path, { timeoutMs: 150, pollMs: 20, onWait: () => waited++ }), {
    code: 'lock_held',
    message: new RegExp(`held by pid ${child.pid}`),
  });
  t.equal(waited, 1, 'onWait called once');
  // Abort while waiting.
  const ac = new AbortController();
  const p = acquireLock(path, { signal: ac.signal, pollMs: 20 });
  setTimeout(() => ac.abort(new Error('stop')), 50);
  await t.rejects(p, { message: 'stop' });
  t.equal(JSON.parse(await readFile(path, 'utf8')).pid, child.pid, 'the live lock is untouched');
});

t.test('a lock file naming our own pid, held by nobody here, is a leftover (container pid 1)', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'self.lock');
  await writeFile(path, lockBody(process.pid));
  const l = await acquireLock(path, { timeoutMs: 500, pollMs: 10 });
  t.pass('taken over');
  await l.release();
});
