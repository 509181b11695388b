// The download sidecar: `.partial-<hash>/download.json` (or `.pull-<url key>/download.json` for a
// pull by URL whose digest is not known yet), written atomically before any body byte of a
// (re)started download. It records what the partial bytes are a prefix of, so a
// later run can resume with `Range` + `If-Range` — or must throw the partial away.
import { readFile } from 'node:fs/promises';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { SHA256_PATTERN } from '../config/schema.js';
import { isNotFound, writeFileAtomic } from './fs-atomic.js';

export const SidecarSchema = Type.Object(
  {
    url: Type.String({ description: 'The configured source URL (before redirects)' }),
    etag: Type.Union([Type.String(), Type.Null()], { description: 'ETag of the response the bytes came from' }),
    last_modified: Type.Union([Type.String(), Type.Null()], { description: 'Last-Modified of that response' }),
    total_bytes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'Full size, when known' }),
    sha256: Type.Union([Type.String({ pattern: SHA256_PATTERN }), Type.Null()], {
      description: 'Expected digest of the finished file; null for a pull by URL without one (computed on arrival)',
    }),
  },
  { additionalProperties: false, $id: 'InferdDownloadSidecar', title: 'download sidecar' },
);

export type Sidecar = Static<typeof SidecarSchema>;

const checker = Compile(SidecarSchema);

/** Reads a sidecar; null when it is absent or unreadable (the partial is then not resumable). */
export async function readSidecar(path: string): Promise<Sidecar | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  try {
    const value: unknown = JSON.parse(text);
    return checker.Check(value) ? value : null;
  } catch {
    return null;
  }
}

export async function writeSidecar(path: string, sidecar: Sidecar): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(sidecar, null, 2)}\n`);
}

/**
 * The validator to send in `If-Range`. RFC 9110 allows only a strong ETag there, so a weak one
 * falls back to Last-Modified. Null means the partial cannot be resumed safely.
 */
export function ifRangeValidator(s: Pick<Sidecar, 'etag' | 'last_modified'>): string | null {
  if (s.etag && !s.etag.startsWith('W/')) return s.etag;
  if (s.last_modified) return s.last_modified;
  return null;
}
