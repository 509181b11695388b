// `inferd import`: bring a GGUF file that is already on this machine into the store.
// The file is copied into a private temp directory inside the store (same filesystem, so the
// final step is a rename), the copy is hashed (so what is verified is what will be served),
// compared in constant time against the optional expected digest, promoted, and only then is
// the manifest written.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InferdError } from '../errors.js';
import { ensureDir, errnoCode } from './fs-atomic.js';
import { digestEquals, sha256File } from './hash.js';
import type { LockOptions } from './lock.js';
import { assertModelName, assertSha256 } from './names.js';
import type { ModelStore, ResolvedModel } from './model-store.js';

export interface ImportOptions {
  /** Refuse the import unless the file hashes to this (64 lowercase hex). */
  expectSha256?: string | undefined;
  license?: string | null | undefined;
  signal?: AbortSignal | undefined;
  onLockWait?: LockOptions['onWait'];
  /**
   * Validates the private copy before it becomes a blob (the CLI passes the GGUF check; the store
   * itself knows nothing of file formats). A throw refuses the import: nothing enters the store.
   */
  check?: ((file: string) => Promise<unknown>) | undefined;
}

export interface ImportResult extends ResolvedModel {
  /** False when the store already held these bytes (only the manifest was written). */
  blobCreated: boolean;
}

export async function importFile(store: ModelStore, name: string, file: string, options: ImportOptions = {}): Promise<ImportResult> {
  assertModelName(name);
  if (options.expectSha256 !== undefined) assertSha256(options.expectSha256, 'expected sha256');
  const source = resolve(file);
  let size: number;
  try {
    const st = await stat(source);
    if (!st.isFile()) throw new InferdError('model_invalid', `${source} is not a regular file`, { detail: { path: source } });
    size = st.size;
  } catch (err) {
    if (err instanceof InferdError) throw err;
    const code = errnoCode(err);
    // The caller named a file: missing is 404-like, anything else unreadable is invalid input.
    const kind = code === 'ENOENT' || code === 'ENOTDIR' ? 'model_not_found' : 'model_invalid';
    throw new InferdError(kind, `cannot read ${source}: ${code ?? (err as Error).message}`, { cause: err, detail: { path: source } });
  }

  const tmpDir = store.layout.importDir(`${process.pid}-${randomBytes(8).toString('hex')}`);
  await ensureDir(tmpDir);
  const tmp = join(tmpDir, 'data.tmp');
  try {
    // FICLONE makes this a reflink where the filesystem can; otherwise a plain copy.
    try {
      await copyFile(source, tmp, constants.COPYFILE_FICLONE);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EACCES' || code === 'EPERM' || code === 'EISDIR') {
        throw new InferdError('model_invalid', `cannot read ${source}: ${code}`, { cause: err, detail: { path: source } });
      }
      throw err;
    }
    // The copy is what would be served, so the copy is what gets checked.
    if (options.check) await options.check(tmp);
    const { sha256, bytes } = await sha256File(tmp, { signal: options.signal });
    if (bytes !== size) {
      throw new InferdError('invalid_request', `${source} changed size while being imported (${size} → ${bytes} bytes)`);
    }
    if (options.expectSha256 !== undefined && !digestEquals(options.expectSha256, sha256)) {
      throw new InferdError(
        'checksum_mismatch',
        `${source} has sha256 ${sha256}, expected ${options.expectSha256}; nothing was imported`,
        { detail: { expected_sha256: options.expectSha256, actual_sha256: sha256 } },
      );
    }
    const lockOpts: LockOptions = { signal: options.signal, onWait: options.onLockWait };
    const nameLock = await store.lockName(name, lockOpts);
    try {
      const blobLock = await store.lockBlob(sha256, lockOpts);
      let blobCreated = false;
      try {
        if ((await store.blobSize(sha256)) === null) {
          await store.promoteBlob(sha256, tmp);
          blobCreated = true;
        }
      } finally {
        await blobLock.release();
      }
      const manifest = await store.writeManifest({
        name,
        sha256,
        sizeBytes: bytes,
        license: options.license ?? null,
        source: { kind: 'import', filename: source.split(/[\\/]/).pop() ?? source },
      });
      return { name, sha256, path: store.blobPath(sha256), sizeBytes: bytes, manifest, blobCreated };
    } finally {
      await nameLock.release();
    }
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}
