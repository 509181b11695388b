// Remembers a download whose bytes did not match their pinned SHA-256, so a daemon restarted by
// its supervisor does not fetch (and quarantine) the same multi-GB file again and again: the
// loop of contract §9.7. Only an explicit `inferd pull` tries that URL again.
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';
import { InferdError } from '../errors.js';
import { writeFileAtomic } from '../store/fs-atomic.js';
import type { ModelStore } from '../store/model-store.js';
import { assertSha256 } from '../store/names.js';

export const MismatchMarkerSchema = Type.Object({
  url: Type.String(),
  expected_sha256: Type.String(),
  actual_sha256: Type.String(),
  quarantine_path: Type.String(),
  at: Type.String({ description: 'ISO 8601 time of the failed download' }),
});
export type MismatchMarker = Static<typeof MismatchMarkerSchema>;

function markerPath(store: ModelStore, sha256: string): string {
  assertSha256(sha256);
  return join(store.layout.locksDir, 'failed', `${sha256}.json`);
}

export async function recordMismatch(store: ModelStore, marker: Omit<MismatchMarker, 'at'>): Promise<void> {
  const record: MismatchMarker = { ...marker, at: new Date().toISOString() };
  await mkdir(join(store.layout.locksDir, 'failed'), { recursive: true });
  await writeFileAtomic(markerPath(store, marker.expected_sha256), `${JSON.stringify(record, null, 2)}\n`);
}

export async function clearMismatch(store: ModelStore, sha256: string): Promise<void> {
  await rm(markerPath(store, sha256), { force: true });
}

/** Throws checksum_mismatch when `url` already failed to deliver `sha256`; a marker for another URL is stale and ignored. */
export async function refuseKnownMismatch(store: ModelStore, sha256: string, url: string): Promise<void> {
  let marker: unknown;
  try {
    marker = JSON.parse(await readFile(markerPath(store, sha256), 'utf8'));
  } catch {
    return; // no marker (or an unreadable one: trying the download is the safe side)
  }
  if (!Value.Check(MismatchMarkerSchema, marker) || marker.url !== url) return;
  throw new InferdError(
    'checksum_mismatch',
    `an earlier download of ${url} (at ${marker.at}) did not match sha256 ${sha256}: it was ${marker.actual_sha256} and is quarantined at ` +
      `${marker.quarantine_path}. Not downloading it again: fix model.sha256 or model.source_url, or run \`inferd pull\` to try once more.`,
    { detail: { ...marker } },
  );
}
