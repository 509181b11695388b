// The one entry point the daemon calls to get a model file on disk, emitting the
// `loading_model` phases of contract §1.10 on the way:
//
//   {path}                      → checking_local{path}; the file must exist and be regular.
//   {name, sha256, source_url}  → checking_local{blob path} → [quarantine] → download… → verify
//                                 (a cached valid blob skips download and verify);
//                                 with autoPull false, a missing blob is `model_missing`.
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ModelConfig } from '../config/schema.js';
import { InferdError } from '../errors.js';
import { errnoCode } from '../store/fs-atomic.js';
import type { ModelStore } from '../store/model-store.js';
import { findPinnedModel, pullModel, type PullOptions, type PullSpec } from './pull.js';

export interface AcquireOptions extends PullOptions {
  /** Download a pinned model that is missing from the store (config `auto_pull`, default true). */
  autoPull?: boolean | undefined;
}

export interface AcquiredModel {
  /** Absolute path of the GGUF file to load. */
  path: string;
  /** Verified digest; absent for a local `{path}` model, which is not pinned. */
  sha256?: string;
  name: string;
  sizeBytes: number;
  /** `local`: a `{path}` model; `store`: already in the store; `download`: fetched now. */
  source: 'local' | 'store' | 'download';
}

/**
 * Resolves the configured model to a file. Errors are InferdErrors (`model_missing`,
 * `model_invalid`, `download_failed`, `checksum_mismatch`, `invalid_request`, `store_invalid`),
 * except an abort, which rejects with `signal.reason`.
 */
export async function acquireModel(model: ModelConfig, store: ModelStore, options: AcquireOptions = {}): Promise<AcquiredModel> {
  if ('path' in model) return acquireLocal(model.path, options);
  const spec: PullSpec = {
    name: model.name,
    sha256: model.sha256,
    url: model.source_url,
    sizeBytes: model.size_bytes,
    license: model.license,
  };
  const result = options.autoPull === false ? await findPinnedModel(store, spec, options) : await pullModel(store, spec, options);
  return { path: result.path, sha256: result.sha256, name: result.name, sizeBytes: result.sizeBytes, source: result.source };
}

async function acquireLocal(path: string, options: AcquireOptions): Promise<AcquiredModel> {
  options.onEvent?.({ phase: 'checking_local', path });
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new InferdError('model_invalid', `model.path ${path} is not a regular file`, { detail: { path } });
    size = st.size;
  } catch (err) {
    if (err instanceof InferdError) throw err;
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new InferdError('model_missing', `model file ${path} does not exist`, { cause: err, detail: { path } });
    }
    throw new InferdError('model_invalid', `cannot read model file ${path}: ${code ?? (err as Error).message}`, { cause: err, detail: { path } });
  }
  return { path, name: basename(path).replace(/\.gguf$/i, ''), sizeBytes: size, source: 'local' };
}
