// SHA-256 helpers: streaming file hashing and the constant-time digest comparison.
import { createHash, timingSafeEqual, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

const READ_CHUNK = 1024 * 1024;

export interface HashFileOptions {
  /** Continue this hash instead of a fresh one (used to restore a resumed download's state). */
  hash?: Hash;
  signal?: AbortSignal | undefined;
  onBytes?: ((bytesSoFar: number) => void) | undefined;
}

/** Streams a file through SHA-256. Returns the (undigested) hash and the byte count. */
export async function hashFile(path: string, options: HashFileOptions = {}): Promise<{ hash: Hash; bytes: number }> {
  const hash = options.hash ?? createHash('sha256');
  let bytes = 0;
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK, signal: options.signal });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    options.onBytes?.(bytes);
  }
  return { hash, bytes };
}

export async function sha256File(path: string, options: Omit<HashFileOptions, 'hash'> = {}): Promise<{ sha256: string; bytes: number }> {
  const { hash, bytes } = await hashFile(path, options);
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * Constant-time equality of two hex digests. Both are validated 64-hex strings by the time they
 * get here; a length difference is not secret and returns false early.
 */
export function digestEquals(expectedHex: string, actualHex: string): boolean {
  const a = Buffer.from(expectedHex, 'hex');
  const b = Buffer.from(actualHex, 'hex');
  if (a.length !== 32 || b.length !== 32) return false;
  return timingSafeEqual(a, b);
}
