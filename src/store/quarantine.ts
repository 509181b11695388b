// Quarantine: bytes that failed verification are moved (never copied, never deleted) to
// `locks/quarantine/<YYYYMMDDTHHMMSSZ>-<reason>.bin`, so they can be inspected and are never
// loaded. Nothing in the store reads from the quarantine folder.
import { constants } from 'node:fs';
import { copyFile, rename, rm } from 'node:fs/promises';
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

/**
 * Moves `src` into the quarantine folder and returns the new path. `ext` is `.bin` for model
 * bytes and `.json` for a set-aside manifest.
 */
export async function moveToQuarantine(layout: StoreLayout, src: string, reason: string, ext = '.bin'): Promise<string> {
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
  return dest;
}
