// Validation of every token that becomes part of a store path. Model names and digests come
// from config files, CLI flags and (later) HTTP requests; they are checked here, at the
// boundary, before any path is built from them (the Ollama "Probllama" lesson: validate at
// parse time, not at write time).
import { InferdError } from '../errors.js';
import { MODEL_NAME_PATTERN, SHA256_PATTERN } from '../config/schema.js';

const NAME_RE = new RegExp(MODEL_NAME_PATTERN);
const SHA_RE = new RegExp(SHA256_PATTERN);
const BLOB_REF_PREFIX = 'sha256:';

/** Quotes a rejected value for an error message without echoing it unbounded. */
export function quoteBounded(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? value : String(value);
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return JSON.stringify(cut);
}

export function isModelName(name: unknown): name is string {
  return typeof name === 'string' && NAME_RE.test(name);
}

export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && SHA_RE.test(value);
}

/** Throws `invalid_request` unless `name` is a store slug (`MODEL_NAME_PATTERN`). */
export function assertModelName(name: unknown): asserts name is string {
  if (!isModelName(name)) {
    throw new InferdError(
      'invalid_request',
      `invalid model name ${quoteBounded(name)}: must match ${MODEL_NAME_PATTERN} (lowercase letters, digits, ".", "_", "-"; at most 64 characters)`,
      { detail: { field: 'name' } },
    );
  }
}

/** Throws `invalid_request` unless `sha` is 64 lowercase hex characters. */
export function assertSha256(sha: unknown, field = 'sha256'): asserts sha is string {
  if (!isSha256(sha)) {
    throw new InferdError('invalid_request', `invalid ${field} ${quoteBounded(sha)}: must be 64 lowercase hex characters`, {
      detail: { field },
    });
  }
}

/** `sha256:<hex>` → `<hex>`, validated. */
export function parseBlobRef(ref: unknown): string {
  if (typeof ref !== 'string' || !ref.startsWith(BLOB_REF_PREFIX)) {
    throw new InferdError('store_invalid', `invalid blob reference ${quoteBounded(ref)}: expected "sha256:<64 hex>"`);
  }
  const hex = ref.slice(BLOB_REF_PREFIX.length);
  if (!isSha256(hex)) throw new InferdError('store_invalid', `invalid blob reference ${quoteBounded(ref)}: expected "sha256:<64 hex>"`);
  return hex;
}

export function blobRef(sha: string): string {
  assertSha256(sha);
  return `${BLOB_REF_PREFIX}${sha}`;
}
