// The single-instance lock, `inferd.lock` in the runtime directory (contract §3.14). It is the
// model store's pid-file lock (src/store/lock.ts): created exclusively, naming its holder, taken
// over when the holder is dead, refused when the path is a symlink. One attempt, no waiting: a
// second daemon fails at once, saying where the lock is and who holds it.
import { lstat } from 'node:fs/promises';
import { InferdError } from '../errors.js';
import { readLockInfo, tryAcquireLock, type HeldLock } from '../store/lock.js';

export async function acquireInstanceLock(path: string): Promise<HeldLock> {
  const lock = await tryAcquireLock(path, 'inferd daemon');
  if (lock) return lock;
  const st = await lstat(path).catch(() => null);
  if (st !== null && !st.isFile()) {
    const what = st.isSymbolicLink() ? 'a symlink' : 'not a regular file';
    throw new InferdError('lock_held', `lock path ${path} is ${what} (refused); remove it by hand`, { detail: { path } });
  }
  const holder = await readLockInfo(path);
  const who = holder ? `pid ${holder.pid} on ${holder.hostname}, since ${holder.created_at}` : 'another process';
  throw new InferdError(
    'lock_held',
    `another inferd daemon holds the lock ${path} (${who}); stop it, or give this daemon its own --runtime-dir`,
    { detail: { path, holder } },
  );
}
