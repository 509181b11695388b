// Where everything lives inside $MODELS_HOME (contract §3.4). Paths are built only from
// validated tokens, and every built path is checked to stay inside the store root, so a bug in
// a caller cannot turn a name into a write outside the store.
import { isAbsolute, join, resolve, sep } from 'node:path';
import { InferdError } from '../errors.js';
import { assertModelName, assertSha256, isSha256 } from './names.js';

export const PARTIAL_DATA = 'data.tmp';
export const PARTIAL_SIDECAR = 'download.json';
export const BLOB_DATA = 'data';

export class StoreLayout {
  /** Absolute, symlink-resolved store root. */
  readonly root: string;

  constructor(root: string) {
    if (!isAbsolute(root)) throw new InferdError('store_invalid', `store root must be an absolute path (got ${JSON.stringify(root)})`);
    this.root = resolve(root);
  }

  get blobsDir(): string {
    return this.inside('blobs', 'sha256');
  }
  get manifestsDir(): string {
    return this.inside('manifests');
  }
  get locksDir(): string {
    return this.inside('locks');
  }
  get blobLocksDir(): string {
    return this.inside('locks', 'blobs');
  }
  get quarantineDir(): string {
    return this.inside('locks', 'quarantine');
  }

  /** `blobs/sha256/<aa>`: the two-character fan-out directory of a digest. */
  fanoutDir(sha: string): string {
    assertSha256(sha);
    return this.inside('blobs', 'sha256', sha.slice(0, 2));
  }
  blobDir(sha: string): string {
    return this.inside('blobs', 'sha256', fanout(sha), sha);
  }
  blobPath(sha: string): string {
    return this.inside('blobs', 'sha256', fanout(sha), sha, BLOB_DATA);
  }
  partialDir(sha: string): string {
    return this.inside('blobs', 'sha256', fanout(sha), `.partial-${sha}`);
  }
  partialDataPath(sha: string): string {
    return join(this.partialDir(sha), PARTIAL_DATA);
  }
  sidecarPath(sha: string): string {
    return join(this.partialDir(sha), PARTIAL_SIDECAR);
  }
  /**
   * `blobs/sha256/.pull-<key>`: a download by URL whose digest is not known until it has arrived.
   * `key` is the SHA-256 of the URL, so a second pull of the same URL resumes the same partial.
   */
  pullDir(key: string): string {
    assertUrlKey(key);
    return this.inside('blobs', 'sha256', `.pull-${key}`);
  }
  pullDataPath(key: string): string {
    return join(this.pullDir(key), PARTIAL_DATA);
  }
  pullSidecarPath(key: string): string {
    return join(this.pullDir(key), PARTIAL_SIDECAR);
  }
  pullLockPath(key: string): string {
    assertUrlKey(key);
    return this.inside('locks', 'blobs', `pull-${key}.lock`);
  }
  /** Temp directory of an import whose digest is not known yet. */
  importDir(token: string): string {
    if (!/^[0-9]{1,10}-[0-9a-f]{16}$/.test(token)) throw new InferdError('store_invalid', `bad import token ${JSON.stringify(token)}`);
    return this.inside('blobs', 'sha256', `.import-${token}`);
  }
  manifestPath(name: string): string {
    assertModelName(name);
    return this.inside('manifests', `${name}.json`);
  }
  nameLockPath(name: string): string {
    assertModelName(name);
    return this.inside('locks', `${name}.lock`);
  }
  blobLockPath(sha: string): string {
    assertSha256(sha);
    return this.inside('locks', 'blobs', `sha256-${sha}.lock`);
  }

  /** Joins segments under the root and refuses any result outside it. */
  inside(...segments: string[]): string {
    const path = resolve(this.root, ...segments);
    if (path !== this.root && !path.startsWith(this.root + sep)) {
      throw new InferdError('store_invalid', `refusing a path outside the model store: ${JSON.stringify(path)}`);
    }
    return path;
  }
}

function assertUrlKey(key: string): void {
  if (!isSha256(key)) throw new InferdError('store_invalid', `bad pull key ${JSON.stringify(key)}`);
}

function fanout(sha: string): string {
  assertSha256(sha);
  return sha.slice(0, 2);
}
