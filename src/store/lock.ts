// Cross-process exclusive locks for store writers.
//
// Node has no flock(2). A lock here is a file created exclusively (a hard link of a fully
// written temp file, which fails with EEXIST like O_CREAT|O_EXCL) holding the owner's pid:
// creation is atomic on every local filesystem, needs no native addon, and the file says who
// holds it. Release deletes it; since the file's existence is the lock, that is safe (unlike
// unlinking a flock file). The cost is stale files after a crash (kill -9, power loss); they are
// taken over when the recorded pid is dead on this host, or is our own pid (a container's pid 1
// after a restart). A takeover is guarded by a second exclusive file, so two waiters cannot both
// delete a stale lock and both win. Known limits: a recycled pid makes a stale lock look alive
// (waiters say which pid they wait for; delete the file by hand), and a lock written by another
// host (shared network filesystem) is never taken over.
//
// Inside one process, callers of the same lock path queue on a promise chain first, so the
// file is only ever contended between processes.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, lstat, readFile, rm, writeFile } from 'node:fs/promises';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { InferdError } from '../errors.js';
import { sleep } from './abortable.js';
import { errnoCode, isNotFound } from './fs-atomic.js';

export const LockInfoSchema = Type.Object(
  {
    pid: Type.Integer({ minimum: 1 }),
    hostname: Type.String(),
    created_at: Type.String(),
    purpose: Type.Optional(Type.String()),
  },
  { additionalProperties: true, title: 'lock file' },
);
export type LockInfo = Static<typeof LockInfoSchema>;
const checker = Compile(LockInfoSchema);

export interface LockOptions {
  signal?: AbortSignal | undefined;
  /** How long to wait for a live holder; default: as long as it takes (until `signal`). */
  timeoutMs?: number | undefined;
  pollMs?: number | undefined;
  /** Called once when the lock is found held by another live process. */
  onWait?: ((holder: LockInfo | null) => void) | undefined;
  purpose?: string | undefined;
}

export interface HeldLock {
  readonly path: string;
  release(): Promise<void>;
}

/** In-process queue per lock path: the tail promise of the current chain. */
const localTails = new Map<string, Promise<void>>();

export async function acquireLock(path: string, options: LockOptions = {}): Promise<HeldLock> {
  const releaseLocal = await acquireLocal(path, options.signal);
  try {
    await acquireFile(path, options);
  } catch (err) {
    releaseLocal();
    throw err;
  }
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      try {
        await rm(path, { force: true });
      } finally {
        releaseLocal();
      }
    },
  };
}

/** One attempt, no waiting: the lock, or null when someone else holds it. */
export async function tryAcquireLock(path: string, purpose?: string): Promise<HeldLock | null> {
  if (localTails.has(path)) return null;
  try {
    return await acquireLock(path, { timeoutMs: 0, purpose });
  } catch (err) {
    if (err instanceof InferdError && err.code === 'lock_held') return null;
    throw err;
  }
}

/** Reads a lock file; null when absent or unreadable. */
export async function readLockInfo(path: string): Promise<LockInfo | null> {
  try {
    const value: unknown = JSON.parse(await readFile(path, 'utf8'));
    return checker.Check(value) ? value : null;
  } catch {
    return null;
  }
}

/** True when the holder is certainly gone: same host and no such pid. */
export function isStale(info: LockInfo | null): boolean {
  if (info === null) return false;
  if (info.hostname !== hostname()) return false;
  return !pidAlive(info.pid);
}

/**
 * A lock file naming this very process, found while no caller in this process holds it (the
 * in-process queue guarantees that here): a previous process with the same pid left it. That is
 * the normal case in a container, where the daemon is pid 1 on every restart.
 */
function isOwnLeftover(info: LockInfo | null): boolean {
  return info !== null && info.pid === process.pid && info.hostname === hostname();
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

async function acquireLocal(path: string, signal: AbortSignal | undefined): Promise<() => void> {
  const previous = localTails.get(path) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => mine);
  localTails.set(path, tail);
  const done = () => {
    release();
    if (localTails.get(path) === tail) localTails.delete(path);
  };
  if (signal) {
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    try {
      await Promise.race([previous, aborted]);
    } catch (err) {
      // Leave the chain intact: release our slot once our predecessor is done.
      void previous.then(done);
      throw err;
    }
  } else {
    await previous;
  }
  return done;
}

async function acquireFile(path: string, options: LockOptions): Promise<void> {
  const pollMs = options.pollMs ?? 200;
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
  const body = JSON.stringify({
    pid: process.pid,
    hostname: hostname(),
    created_at: new Date().toISOString(),
    ...(options.purpose ? { purpose: options.purpose } : {}),
  });
  let reportedWait = false;
  for (;;) {
    options.signal?.throwIfAborted();
    if (await createExclusive(path, body)) return;
    await refuseOddLockPath(path);
    const holder = await readLockInfo(path);
    if ((isStale(holder) || isOwnLeftover(holder)) && (await takeOver(path, holder!, body))) return;
    if (Date.now() >= deadline) {
      const who = holder ? `pid ${holder.pid} on ${holder.hostname} since ${holder.created_at}` : 'an unknown process';
      throw new InferdError('lock_held', `lock ${path} is held by ${who}`, { detail: { path, holder } });
    }
    if (!reportedWait) {
      reportedWait = true;
      options.onWait?.(holder);
    }
    await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), options.signal);
  }
}

/**
 * F-2: a lock path that is a symlink (or not a regular file) is refused rather than read or
 * taken over: following it would let whoever planted it steer which file we trust or delete.
 */
async function refuseOddLockPath(path: string): Promise<void> {
  let kind: 'symlink' | 'not_a_file' | undefined;
  try {
    const st = await lstat(path);
    kind = st.isSymbolicLink() ? 'symlink' : st.isFile() ? undefined : 'not_a_file';
  } catch (err) {
    if (isNotFound(err)) return; // released meanwhile: the next round creates it
    throw err;
  }
  if (kind === undefined) return;
  const what = kind === 'symlink' ? 'a symlink' : 'not a regular file';
  throw new InferdError('lock_held', `lock path ${path} is ${what} (refused); remove it by hand`, { detail: { path, reason: kind } });
}

/**
 * Creates `path` with `body` only if it does not exist. The content is written to a private
 * temp file first and hard-linked into place (link fails with EEXIST like O_EXCL), so a lock
 * file is never seen empty, even if its creator dies mid-way.
 */
async function createExclusive(path: string, body: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, body, { flag: 'wx', mode: 0o644 });
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Replaces a stale lock. Only the process that creates `<lock>.takeover` may delete the stale
 * file, and it re-reads the lock first, so a live lock created meanwhile is never removed.
 */
async function takeOver(path: string, stale: LockInfo, body: string): Promise<boolean> {
  const guard = `${path}.takeover`;
  if (!(await createExclusive(guard, body))) {
    // A takeover guard left by a crashed taker is itself stale; clear it for the next round.
    const guardHolder = await readLockInfo(guard);
    if (isStale(guardHolder)) await rm(guard, { force: true });
    return false;
  }
  try {
    const again = await readLockInfo(path);
    if (again === null || again.pid !== stale.pid || again.created_at !== stale.created_at) return false;
    await rm(path, { force: true });
    return await createExclusive(path, body);
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  } finally {
    await rm(guard, { force: true });
  }
}
