// The content-addressed model store (contract §3.4, docs/model-store.md).
//
//   $MODELS_HOME/blobs/sha256/<aa>/<hash>/data           verified model bytes
//   $MODELS_HOME/blobs/sha256/<aa>/.partial-<hash>/      a download in progress (data.tmp + download.json)
//   $MODELS_HOME/blobs/sha256/.pull-<url key>/           the same for a pull by URL whose digest is not known yet
//   $MODELS_HOME/manifests/<name>.json                   name → blob, written last
//   $MODELS_HOME/locks/<name>.lock, locks/blobs/…        writer locks
//   $MODELS_HOME/locks/quarantine/<ts>-<reason>.bin      bytes that failed verification
//
// Import (store-import.ts) and the startup self-check (reconcile.ts) are functions over a store,
// not methods, so this file imports neither of them and the module graph has no cycle.
//
// Invariants: a blob exists only after its bytes hashed to its name; a manifest exists only
// after its blob. Readers take no lock; writers hold the name lock, then the blob lock.
import { mkdir, readdir, readFile, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InferdError } from '../errors.js';
import { ensureDir, fsyncDir, isNotFound, promoteFile, regularFileSize, writeFileAtomic } from './fs-atomic.js';
import { StoreLayout } from './layout.js';
import { acquireLock, type HeldLock, type LockOptions } from './lock.js';
import {
  manifestSha256,
  parseManifest,
  PRODUCED_BY,
  renderManifest,
  utcSeconds,
  type Manifest,
  type ManifestSource,
} from './manifest.js';
import { assertModelName, assertSha256, blobRef, isModelName } from './names.js';
import { DEFAULT_QUARANTINE_CAPS, moveToQuarantine, type QuarantineCaps, type Quarantined } from './quarantine.js';

/** A name resolved through its manifest to a blob that exists. */
export interface ResolvedModel {
  name: string;
  sha256: string;
  /** Absolute path of the blob file. */
  path: string;
  sizeBytes: number;
  manifest: Manifest;
}

/** One row of `list()`. `present` is false only for a dangling manifest not yet reconciled. */
export interface ModelEntry {
  name: string;
  sha256: string;
  path: string;
  sizeBytes: number;
  present: boolean;
  license: string | null;
  producedAt: string;
  source: ManifestSource;
}

export interface NewManifest {
  name: string;
  sha256: string;
  sizeBytes: number;
  license?: string | null | undefined;
  source: ManifestSource;
}

export interface StoreOptions {
  /** Limits of `locks/quarantine/` (config `quarantine_max_files`, `quarantine_max_bytes`). */
  quarantine?: Partial<QuarantineCaps> | undefined;
}

export class ModelStore {
  readonly layout: StoreLayout;
  readonly quarantineCaps: QuarantineCaps;

  private constructor(layout: StoreLayout, options: StoreOptions) {
    this.layout = layout;
    this.quarantineCaps = { ...DEFAULT_QUARANTINE_CAPS, ...options.quarantine };
  }

  /** Opens (creating when needed) the store at `root`, an absolute path. */
  static async open(root: string, options: StoreOptions = {}): Promise<ModelStore> {
    await mkdir(root, { recursive: true });
    // Resolve symlinks once, so containment checks compare real paths.
    const layout = new StoreLayout(await realpath(new StoreLayout(root).root));
    for (const dir of [layout.blobsDir, layout.manifestsDir, layout.locksDir, layout.blobLocksDir]) await ensureDir(dir);
    return new ModelStore(layout, options);
  }

  get root(): string {
    return this.layout.root;
  }

  blobPath(sha256: string): string {
    return this.layout.blobPath(sha256);
  }

  /** Size of the blob, or null when it is not in the store. */
  async blobSize(sha256: string): Promise<number | null> {
    return regularFileSize(this.layout.blobPath(sha256));
  }

  /** The manifest of `name`, or null when there is none. Throws `store_invalid` when corrupt. */
  async readManifest(name: string): Promise<Manifest | null> {
    const file = this.layout.manifestPath(name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    return parseManifest(text, name, file);
  }

  /** Writes `manifests/<name>.json` atomically. Call only once the blob is in place. */
  async writeManifest(entry: NewManifest): Promise<Manifest> {
    assertModelName(entry.name);
    assertSha256(entry.sha256);
    const manifest: Manifest = {
      schema_version: 1,
      name: entry.name,
      format: 'gguf',
      blob: blobRef(entry.sha256),
      size_bytes: entry.sizeBytes,
      license: entry.license ?? null,
      source: entry.source,
      produced_by: PRODUCED_BY,
      produced_at: utcSeconds(),
    };
    if ((await this.blobSize(entry.sha256)) === null) {
      throw new InferdError('store_invalid', `refusing to write manifest ${entry.name}: blob ${entry.sha256} is not in the store`);
    }
    await writeFileAtomic(this.layout.manifestPath(entry.name), renderManifest(manifest));
    return manifest;
  }

  /**
   * Resolves a name to its blob. Null when no manifest exists; `store_invalid` when the
   * manifest is corrupt or its blob is missing (reconcile() sets such manifests aside).
   */
  async resolve(name: string): Promise<ResolvedModel | null> {
    assertModelName(name);
    const manifest = await this.readManifest(name);
    if (manifest === null) return null;
    const sha256 = manifestSha256(manifest);
    const size = await this.blobSize(sha256);
    if (size === null) {
      throw new InferdError('store_invalid', `manifest ${name} points at blob ${sha256}, which is missing; run \`inferd models --reconcile\` or pull it again`);
    }
    return { name, sha256, path: this.layout.blobPath(sha256), sizeBytes: size, manifest };
  }

  /** Every valid manifest, by name. Corrupt manifests are skipped (reconcile() reports them). */
  async list(): Promise<ModelEntry[]> {
    let files: string[];
    try {
      files = await readdir(this.layout.manifestsDir);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    const entries: ModelEntry[] = [];
    for (const file of files.sort()) {
      if (!file.endsWith('.json')) continue;
      const name = file.slice(0, -'.json'.length);
      if (!isModelName(name)) continue;
      let manifest: Manifest | null;
      try {
        manifest = await this.readManifest(name);
      } catch (err) {
        if (err instanceof InferdError && err.code === 'store_invalid') continue;
        throw err;
      }
      if (manifest === null) continue;
      const sha256 = manifestSha256(manifest);
      const size = await this.blobSize(sha256);
      entries.push({
        name,
        sha256,
        path: this.layout.blobPath(sha256),
        sizeBytes: size ?? manifest.size_bytes,
        present: size !== null,
        license: manifest.license,
        producedAt: manifest.produced_at,
        source: manifest.source,
      });
    }
    return entries;
  }

  /** Size of a regular file at `path` inside the store, or null. */
  async fileSize(path: string): Promise<number | null> {
    return regularFileSize(this.layout.inside(path));
  }

  /**
   * Removes a name: its manifest first (so no reader resolves it any more), then its blob when
   * no other manifest points at it. False when there is no such name. Takes the name lock, then
   * the blob lock, like every writer.
   */
  async remove(name: string): Promise<boolean> {
    assertModelName(name);
    const nameLock = await this.lockName(name);
    try {
      const manifest = await this.readManifest(name);
      if (manifest === null) return false;
      const sha256 = manifestSha256(manifest);
      await rm(this.layout.manifestPath(name), { force: true });
      await fsyncDir(this.layout.manifestsDir);
      if ((await this.list()).some((entry) => entry.sha256 === sha256)) return true;
      const blobLock = await this.lockBlob(sha256);
      try {
        await rm(this.layout.blobDir(sha256), { recursive: true, force: true });
      } finally {
        await blobLock.release();
      }
      return true;
    } finally {
      await nameLock.release();
    }
  }

  /** The writer lock of a name (taken before the blob lock, never after). */
  lockName(name: string, options: LockOptions = {}): Promise<HeldLock> {
    return acquireLock(this.layout.nameLockPath(name), { purpose: `name ${name}`, ...options });
  }

  /** The writer lock of a blob: guards its partial directory and its promotion. */
  lockBlob(sha256: string, options: LockOptions = {}): Promise<HeldLock> {
    return acquireLock(this.layout.blobLockPath(sha256), { purpose: `blob ${sha256}`, ...options });
  }

  /**
   * The writer lock of a pull by URL whose digest is not known yet: guards its `.pull-<key>`
   * directory. Taken after the name lock and before the blob lock of the digest it turns out to have.
   */
  lockPull(key: string, options: LockOptions = {}): Promise<HeldLock> {
    return acquireLock(this.layout.pullLockPath(key), { purpose: `pull ${key}`, ...options });
  }

  /**
   * Moves a verified file into place as blob `sha256`. The caller has checked the digest and
   * holds the blob lock.
   */
  async promoteBlob(sha256: string, verifiedFile: string): Promise<string> {
    const dir = this.layout.blobDir(sha256);
    await ensureDir(this.layout.fanoutDir(sha256));
    await mkdir(dir, { recursive: true });
    await fsyncDir(this.layout.fanoutDir(sha256));
    const dest = this.layout.blobPath(sha256);
    await promoteFile(verifiedFile, dest);
    return dest;
  }

  /** Moves `path` (inside the store) to quarantine; returns where it went and what was trimmed. */
  quarantine(path: string, reason: string, ext = '.bin'): Promise<Quarantined> {
    this.layout.inside(path);
    return moveToQuarantine(this.layout, path, reason, ext, this.quarantineCaps);
  }

  /** Directory listing helper for reconcile: names in `dir`, or [] when it does not exist. */
  async entries(dir: string): Promise<string[]> {
    try {
      return (await readdir(this.layout.inside(dir))).sort();
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  /** Joins under the root (containment-checked). */
  path(...segments: string[]): string {
    return this.layout.inside(join(...segments));
  }
}
