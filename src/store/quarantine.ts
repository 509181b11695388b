// Quarantine: bytes that failed verification are moved (never copied, never deleted) to
// `locks/quarantine/<YYYYMMDDTHHMMSSZ>-<reason>.bin`, so they can be inspected and are never
// loaded. Nothing in the store reads from the quarantine folder. The folder is capped (count and
// bytes, config `quarantine_max_files` / `quarantine_max_bytes`): after each move the oldest
// entries are removed until it fits, but the entry just moved in is always kept (it is the
// evidence for the error being reported right now).
import { constants } from 'node:fs';
import { copyFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir, errnoCode, fsyncDir, pathExists } from './fs-atomic.js';
import type { StoreLayout } from './layout.js';

/** `20260810T151705Z`: UTC, `%Y%m%dT%H%M%SZ` like the reference daemon. */
export function quarantineTimestamp(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

/** Non-alphanumerics become `-` (contract §3.3), so a reason can never form a path. */
export function sanitizeReason(reason: string): string {
  return reason.replace(/[^A-Za-z0-9]/g, '-').slice(0, 120);
}

/** Reason for a digest mismatch, naming both digests by their first 12 characters. */
export function shaMismatchReason(expected: string, actual: string): string {
  return `sha-mismatch-${expected.slice(0, 12)}-${actual.slice(0, 12)}`;
}

/** Limits of the quarantine folder; 0 means no limit. */
export interface QuarantineCaps {
  maxFiles: number;
  maxBytes: number;
}

export const DEFAULT_QUARANTINE_CAPS: QuarantineCaps = { maxFiles: 8, maxBytes: 32 * 1024 ** 3 };

export interface Quarantined {
  /** Where the entry went. */
  path: string;
  /** Older quarantined files removed to keep the folder within its caps, oldest first. */
  removed: string[];
}

/**
 * Moves `src` into the quarantine folder, then trims the folder to `caps`. `ext` is `.bin` for
 * model bytes and `.json` for a set-aside manifest.
 */
export async function moveToQuarantine(
  layout: StoreLayout,
  src: string,
  reason: string,
  ext = '.bin',
  caps: QuarantineCaps = DEFAULT_QUARANTINE_CAPS,
): Promise<Quarantined> {
  const dir = layout.quarantineDir;
  await ensureDir(dir);
  const stem = `${quarantineTimestamp()}-${sanitizeReason(reason)}`;
  let dest = join(dir, `${stem}${ext}`);
  for (let n = 2; await pathExists(dest); n++) dest = join(dir, `${stem}-${n}${ext}`);
  layout.inside(dest);
  try {
    await rename(src, dest);
  } catch (err) {
    // Another filesystem (store root on a mount point boundary): copy, then remove.
    if (errnoCode(err) !== 'EXDEV') throw err;
    await copyFile(src, dest, constants.COPYFILE_EXCL);
    await rm(src, { force: true });
  }
  await fsyncDir(dir);
  const removed = await trimQuarantine(dir, dest, caps);
  return { path: dest, removed };
}

/**
 * Removes the oldest entries beyond the caps. Age is the inode change time, which the move into
 * quarantine sets (names alone cannot order two entries of the same second: `x.bin`, `x-2.bin`).
 */
async function trimQuarantine(dir: string, keep: string, caps: QuarantineCaps): Promise<string[]> {
  if (caps.maxFiles <= 0 && caps.maxBytes <= 0) return [];
  const entries: Array<{ path: string; bytes: number; changed: bigint }> = [];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const st = await stat(path, { bigint: true }).catch(() => null);
    if (st?.isFile()) entries.push({ path, bytes: Number(st.size), changed: st.ctimeNs });
  }
  entries.sort((a, b) => (a.changed < b.changed ? -1 : a.changed > b.changed ? 1 : a.path < b.path ? -1 : 1));
  let count = entries.length;
  let bytes = entries.reduce((n, e) => n + e.bytes, 0);
  const removed: string[] = [];
  for (const entry of entries) {
    const over = (caps.maxFiles > 0 && count > caps.maxFiles) || (caps.maxBytes > 0 && bytes > caps.maxBytes);
    if (!over) break;
    if (entry.path === keep) continue;
    await rm(entry.path, { force: true });
    removed.push(entry.path);
    count--;
    bytes -= entry.bytes;
  }
  if (removed.length > 0) await fsyncDir(dir);
  return removed;
}
