// Startup self-check of the store. Policy (docs/model-store.md, "Reconcile"):
//
// - Partials (`.partial-<hash>/`) are reported and kept: with a valid sidecar they resume on the
//   next pull of that digest; without one the next pull discards them. So are the partials of
//   pulls by URL without a digest (`.pull-<url key>/`, reported with a null sha256), which resume
//   on the next pull of that URL.
// - Orphan blobs (no manifest names them) are reported and kept. A blob exists only after it
//   was verified, so it is still good: a later pull or import of the same digest reuses it.
// - A manifest whose blob is missing is moved aside to `locks/quarantine/<ts>-dangling-
//   manifest-<name>.json` and reported, so a manifest never points at a missing blob; the
//   next pull of that model downloads it again. Unreadable or invalid manifests are moved
//   aside the same way. A manifest whose name lock is held (a writer is busy) is left alone.
// - Leftovers of crashed writers whose pid is dead are removed: import temp directories
//   (`.import-<pid>-…`, never resumable) and atomic-write temp files in `manifests/`.
// - Stale lock files (dead holder) are reported; the next acquirer takes them over.
// Reconcile never deletes model bytes other than an import's private temp copy.
import { rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { InferdError } from '../errors.js';
import { regularFileSize } from './fs-atomic.js';
import { isStale, readLockInfo, tryAcquireLock } from './lock.js';
import { manifestSha256 } from './manifest.js';
import { BLOB_DATA, PARTIAL_DATA } from './layout.js';
import { isModelName, isSha256 } from './names.js';
import type { ModelStore } from './model-store.js';
import { readSidecar } from './sidecar.js';

export interface ReconcileReport {
  /** `sha256` is null for a pull by URL whose digest is not known until it completes. */
  partials: Array<{ sha256: string | null; path: string; bytes: number; totalBytes: number | null; url: string | null; resumable: boolean }>;
  orphanBlobs: Array<{ sha256: string; path: string; bytes: number }>;
  /** Manifests set aside because their blob is missing. */
  danglingManifests: Array<{ name: string; sha256: string; movedTo: string }>;
  /** Manifests set aside because they do not parse or validate. */
  invalidManifests: Array<{ file: string; error: string; movedTo: string }>;
  /** Leftovers of crashed writers that were removed. */
  removed: string[];
  staleLocks: Array<{ path: string; pid: number }>;
  /** Entries that do not belong to the layout; reported, never touched. */
  unknown: string[];
}

export async function reconcileStore(store: ModelStore): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    partials: [],
    orphanBlobs: [],
    danglingManifests: [],
    invalidManifests: [],
    removed: [],
    staleLocks: [],
    unknown: [],
  };
  const referenced = await checkManifests(store, report);
  await scanBlobs(store, report, referenced);
  await scanLocks(store, report);
  return report;
}

async function checkManifests(store: ModelStore, report: ReconcileReport): Promise<Set<string>> {
  const referenced = new Set<string>();
  const dir = store.layout.manifestsDir;
  for (const file of await store.entries(dir)) {
    const path = join(dir, file);
    const tmp = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(file);
    if (tmp) {
      if (deadLocalPid(Number(tmp[1]))) {
        await rm(path, { force: true });
        report.removed.push(path);
      }
      continue;
    }
    const name = file.endsWith('.json') ? file.slice(0, -'.json'.length) : '';
    if (!isModelName(name)) {
      report.unknown.push(path);
      continue;
    }
    const lock = await tryAcquireLock(store.layout.nameLockPath(name), 'reconcile');
    if (lock === null) continue;
    try {
      let sha256: string | null = null;
      try {
        const manifest = await store.readManifest(name);
        if (manifest === null) continue;
        sha256 = manifestSha256(manifest);
      } catch (err) {
        if (!(err instanceof InferdError && err.code === 'store_invalid')) throw err;
        const movedTo = (await store.quarantine(path, `invalid-manifest-${name}`, '.json')).path;
        report.invalidManifests.push({ file: path, error: err.message, movedTo });
        continue;
      }
      if ((await store.blobSize(sha256)) === null) {
        const movedTo = (await store.quarantine(path, `dangling-manifest-${name}`, '.json')).path;
        report.danglingManifests.push({ name, sha256, movedTo });
      } else {
        referenced.add(sha256);
      }
    } finally {
      await lock.release();
    }
  }
  return referenced;
}

/**
 * A partial download as reconcile reports it: resumable when its sidecar names the same digest
 * (null for a pull by URL) and some bytes arrived.
 */
async function partialEntry(path: string, sidecarPath: string, dataPath: string, sha256: string | null): Promise<ReconcileReport['partials'][number]> {
  const sidecar = await readSidecar(sidecarPath);
  const bytes = (await regularFileSize(dataPath)) ?? 0;
  return { sha256, path, bytes, totalBytes: sidecar?.total_bytes ?? null, url: sidecar?.url ?? null, resumable: sidecar !== null && sidecar.sha256 === sha256 && bytes > 0 };
}

async function scanBlobs(store: ModelStore, report: ReconcileReport, referenced: Set<string>): Promise<void> {
  const top = store.layout.blobsDir;
  for (const fan of await store.entries(top)) {
    const fanPath = join(top, fan);
    const pull = /^\.pull-([0-9a-f]{64})$/.exec(fan);
    if (pull) {
      const key = pull[1] ?? '';
      report.partials.push(await partialEntry(fanPath, store.layout.pullSidecarPath(key), store.layout.pullDataPath(key), null));
      continue;
    }
    const imp = /^\.import-(\d+)-[0-9a-f]{16}$/.exec(fan);
    if (imp) {
      if (deadLocalPid(Number(imp[1]))) {
        await rm(fanPath, { recursive: true, force: true });
        report.removed.push(fanPath);
      }
      continue;
    }
    if (!/^[0-9a-f]{2}$/.test(fan)) {
      report.unknown.push(fanPath);
      continue;
    }
    for (const entry of await store.entries(fanPath)) {
      const path = join(fanPath, entry);
      const partial = /^\.partial-(.+)$/.exec(entry);
      if (partial) {
        const sha256 = partial[1] ?? '';
        if (!isSha256(sha256) || !sha256.startsWith(fan)) {
          report.unknown.push(path);
          continue;
        }
        report.partials.push(await partialEntry(path, store.layout.sidecarPath(sha256), join(path, PARTIAL_DATA), sha256));
        continue;
      }
      if (!isSha256(entry) || !entry.startsWith(fan)) {
        report.unknown.push(path);
        continue;
      }
      const size = await regularFileSize(join(path, BLOB_DATA));
      if (size === null) {
        // A blob directory without data: a crash between mkdir and rename. Harmless; report it.
        report.unknown.push(path);
        continue;
      }
      if (!referenced.has(entry)) report.orphanBlobs.push({ sha256: entry, path: join(path, BLOB_DATA), bytes: size });
    }
  }
}

async function scanLocks(store: ModelStore, report: ReconcileReport): Promise<void> {
  for (const dir of [store.layout.locksDir, store.layout.blobLocksDir]) {
    for (const entry of await store.entries(dir)) {
      const path = join(dir, entry);
      if (!entry.endsWith('.lock')) continue;
      const st = await stat(path).catch(() => null);
      if (!st?.isFile()) continue;
      const info = await readLockInfo(path);
      if (info && isStale(info)) report.staleLocks.push({ path, pid: info.pid });
    }
  }
}

function deadLocalPid(pid: number): boolean {
  return isStale({ pid, hostname: hostname(), created_at: '' });
}
