// Manifest schema v1 (contract §3.4): `manifests/<name>.json` maps a name to a blob digest.
// The manifest is the only record of "installed": it is written last, atomically, and only
// after its blob has been verified and promoted.
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { InferdError } from '../errors.js';
import { MODEL_NAME_PATTERN, SHA256_PATTERN } from '../config/schema.js';
import { parseBlobRef } from './names.js';

export const PRODUCED_BY = 'inferd/0.1.0';

export const ManifestSourceSchema = Type.Object(
  {
    kind: Type.Optional(Type.Union([Type.Literal('download'), Type.Literal('import')])),
    url: Type.Optional(Type.String({ description: 'Download URL without query or credentials (diagnostic)' })),
    registry: Type.Optional(Type.String()),
    repo: Type.Optional(Type.String()),
    revision: Type.Optional(Type.String()),
    filename: Type.Optional(Type.String()),
  },
  { additionalProperties: true, description: 'Where the blob came from; diagnostic only' },
);

export const ManifestSchema = Type.Object(
  {
    schema_version: Type.Literal(1),
    name: Type.String({ pattern: MODEL_NAME_PATTERN }),
    format: Type.Literal('gguf'),
    blob: Type.String({ pattern: `^sha256:${SHA256_PATTERN.slice(1)}` }),
    size_bytes: Type.Integer({ minimum: 0 }),
    license: Type.Union([Type.String(), Type.Null()]),
    source: ManifestSourceSchema,
    produced_by: Type.String(),
    produced_at: Type.String({ description: 'UTC, RFC 3339 to the second' }),
  },
  { additionalProperties: true, $id: 'InferdManifestV1', title: 'model manifest v1' },
);

export type Manifest = Static<typeof ManifestSchema>;
export type ManifestSource = Static<typeof ManifestSourceSchema>;

const checker = Compile(ManifestSchema);

/** Parses and validates a manifest file's text. `expectedName` is the file's stem. */
export function parseManifest(text: string, expectedName: string, file: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InferdError('store_invalid', `manifest ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!checker.Check(value)) {
    const first = [...checker.Errors(value)][0];
    const where = first ? `${first.instancePath || '(root)'}: ${first.message}` : 'schema mismatch';
    throw new InferdError('store_invalid', `manifest ${file} is not a v1 manifest (${where})`);
  }
  if (value.name !== expectedName) {
    throw new InferdError('store_invalid', `manifest ${file} names ${JSON.stringify(value.name)}, not ${JSON.stringify(expectedName)}`);
  }
  parseBlobRef(value.blob);
  return value;
}

export function manifestSha256(m: Manifest): string {
  return parseBlobRef(m.blob);
}

/** Pretty JSON plus a trailing newline, as the reference daemon writes it. */
export function renderManifest(m: Manifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

/** UTC timestamp to the second, `2026-05-18T17:06:10Z`. */
export function utcSeconds(date = new Date()): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Diagnostic source of a download: the URL without query string, fragment or credentials. */
export function sourceFromUrl(url: string): ManifestSource {
  const u = new URL(url);
  const clean = `${u.protocol}//${u.host}${u.pathname}`;
  const filename = decodeURIComponent(u.pathname.split('/').pop() ?? '') || undefined;
  const source: ManifestSource = { kind: 'download', url: clean, registry: u.hostname };
  if (filename) source.filename = filename;
  // Hugging Face URLs carry repo and revision: /<org>/<repo>/resolve/<revision>/<file>.
  const hf = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\//.exec(u.pathname);
  if (hf?.[1] && hf[2]) {
    source.repo = hf[1];
    source.revision = hf[2];
  }
  return source;
}
