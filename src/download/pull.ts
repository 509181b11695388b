// Bringing a named, pinned model into the store: check the cached blob, download it when
// absent or bad, write the manifest. Used by `inferd pull` and by acquireModel (the daemon).
//
// A pull by URL without a pinned digest (pullUrl: `ollama pull <url>`, `inferd pull --url` with
// no --sha256) always downloads (or resumes its partial), computes the digest of what arrived,
// validates it with the caller's check, and records that digest in the manifest.
//
// Concurrency: callers in this process with the same store, name and digest (or URL) share one
// run (single-flight). Across processes, the name lock and then the blob lock serialise writers; a
// second process waits for the first and then finds the blob in place.
import { rm } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { InferdError } from '../errors.js';
import type { LoadPhase } from '../status/events.js';
import { downloadBlob, pullKey } from './download-blob.js';
import { assertHttpsUrl, createDownloadAgent, DEFAULT_MAX_REDIRECTS, DEFAULT_TIMEOUTS, type HttpTimeouts } from './http.js';
import { DEFAULT_CADENCE, type ProgressCadence } from './progress.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { fileSink, type SinkFactory } from './sink.js';
import { HostGuard, type ResolveHost } from './host-guard.js';
import { digestEquals, sha256File } from '../store/hash.js';
import type { LockInfo, LockOptions } from '../store/lock.js';
import { manifestSha256, sourceFromUrl } from '../store/manifest.js';
import { clearMismatch, recordMismatch, refuseKnownMismatch } from './mismatch-marker.js';
import type { ModelStore } from '../store/model-store.js';
import { assertModelName, assertSha256 } from '../store/names.js';
import { shaMismatchReason } from '../store/quarantine.js';
import { SingleFlight } from './single-flight.js';
import { quarantineFrame } from './quarantine-frame.js';

export interface PullSpec {
  name: string;
  sha256: string;
  /** https:// only. */
  url: string;
  sizeBytes?: number | null | undefined;
  license?: string | null | undefined;
}

/** A pull by URL whose digest is not known beforehand: it is computed from what arrives. */
export type UrlPullSpec = Omit<PullSpec, 'sha256'>;

export interface UrlPullOptions extends PullOptions {
  /**
   * Validates the downloaded file before it becomes a blob (the GGUF check; the downloader knows
   * no file formats). A throw quarantines the bytes and fails the pull with the thrown error.
   */
  check: (file: string) => Promise<unknown>;
}

export interface PullOptions {
  /** Receives `checking_local`, `download`, `verify` and `quarantine` phases, in order. */
  onEvent?: ((event: LoadPhase) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** An undici dispatcher owned by the caller; otherwise an Agent is made (and closed) per download. */
  dispatcher?: Dispatcher | undefined;
  /** Extra trusted CA certificates (PEM) for the Agent made when no dispatcher is given. */
  caPem?: string | string[] | undefined;
  timeouts?: Partial<HttpTimeouts> | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  /** Progress frame thresholds; default every 32 MiB or 5 s. */
  progress?: Partial<ProgressCadence> | undefined;
  maxRedirects?: number | undefined;
  /**
   * Allow hosts that resolve to loopback, private, link-local, CGNAT or ULA addresses
   * (`pull_allow_private`). Cloud metadata endpoints are refused either way.
   */
  allowPrivate?: boolean | undefined;
  /** Name resolution for the address check (default: the system resolver). */
  resolveHost?: ResolveHost | undefined;
  /** Abort a download whose size passes this many bytes (`max_model_bytes`; 0 or absent: no cap). */
  maxBytes?: number | undefined;
  sinkFactory?: SinkFactory | undefined;
  /**
   * How a cached blob is trusted. `size` (default): present, regular, and the expected size —
   * blobs only come into existence after their digest matched. `sha256`: re-hash it.
   */
  verifyCached?: 'size' | 'sha256' | undefined;
  /**
   * Download even when this URL already failed its checksum (an explicit `inferd pull`). Without
   * it, a remembered mismatch fails at once instead of downloading the same bytes again.
   */
  retryKnownMismatch?: boolean | undefined;
  /** Wait at most this long for another process's lock (default: no limit). */
  lockTimeoutMs?: number | undefined;
  lockPollMs?: number | undefined;
  onLockWait?: ((holder: LockInfo | null) => void) | undefined;
}

export interface PullResult {
  name: string;
  sha256: string;
  path: string;
  sizeBytes: number;
  /** `store`: the blob was already there; `download`: it was fetched now. */
  source: 'store' | 'download';
}

const flights = new SingleFlight<PullResult, LoadPhase>((prev, next) => prev.phase === 'download' && next.phase === 'download');

/** Ensures `spec` is in the store, downloading it if needed. */
export function pullModel(store: ModelStore, spec: PullSpec, options: PullOptions = {}): Promise<PullResult> {
  return bringUp(store, spec, options, true);
}

/**
 * Downloads `spec.url` into the store under `spec.name` without a pinned digest: the digest of
 * what arrives is computed, `options.check` must accept the file, and the manifest records the
 * computed digest. `verifyCached` and `retryKnownMismatch` do not apply (there is nothing to
 * compare a cached copy or an earlier failure with).
 */
export function pullUrl(store: ModelStore, spec: UrlPullSpec, options: UrlPullOptions): Promise<PullResult> {
  try {
    validateSpec(spec);
  } catch (err) {
    return Promise.reject(err);
  }
  const key = `${store.root}\0${spec.name}\0url:${spec.url}\0pull`;
  return flights.run(key, (emit, signal) => runUrl(store, spec, { ...options, signal }, emit), {
    onEvent: options.onEvent,
    signal: options.signal,
  });
}

/**
 * Like pullModel but never downloads: resolves a pinned model that must already be in the
 * store (`auto_pull: false`). A missing blob is `model_missing`, naming `inferd pull`.
 */
export function findPinnedModel(store: ModelStore, spec: PullSpec, options: PullOptions = {}): Promise<PullResult> {
  return bringUp(store, spec, options, false);
}

function bringUp(store: ModelStore, spec: PullSpec, options: PullOptions, allowDownload: boolean): Promise<PullResult> {
  try {
    validateSpec(spec);
  } catch (err) {
    return Promise.reject(err);
  }
  const key = `${store.root}\0${spec.name}\0${spec.sha256}\0${allowDownload ? 'pull' : 'find'}`;
  return flights.run(key, (emit, signal) => run(store, spec, { ...options, signal }, emit, allowDownload), {
    onEvent: options.onEvent,
    signal: options.signal,
  });
}

function validateSpec(spec: PullSpec | UrlPullSpec): void {
  assertModelName(spec.name);
  if ('sha256' in spec) assertSha256(spec.sha256);
  assertHttpsUrl(spec.url);
  const size = spec.sizeBytes;
  if (size !== undefined && size !== null && (!Number.isSafeInteger(size) || size < 1)) {
    throw new InferdError('invalid_request', `invalid size_bytes ${String(size)}: must be a positive integer`);
  }
}

/** The store-lock settings a pull's options carry. */
function lockOptions(options: PullOptions): LockOptions {
  return { signal: options.signal, timeoutMs: options.lockTimeoutMs, pollMs: options.lockPollMs, onWait: options.onLockWait };
}

async function run(
  store: ModelStore,
  spec: PullSpec,
  options: PullOptions,
  emit: (event: LoadPhase) => void,
  allowDownload: boolean,
): Promise<PullResult> {
  const blobPath = store.blobPath(spec.sha256);
  emit({ phase: 'checking_local', path: blobPath });
  const lockOpts = lockOptions(options);
  const nameLock = await store.lockName(spec.name, lockOpts);
  try {
    let sizeBytes: number;
    let source: PullResult['source'];
    const blobLock = await store.lockBlob(spec.sha256, lockOpts);
    try {
      const cached = await checkCached(store, spec, options.verifyCached ?? 'size', emit, options.signal);
      if (cached !== null) {
        sizeBytes = cached;
        source = 'store';
      } else if (!allowDownload) {
        throw new InferdError(
          'model_missing',
          `model ${spec.name} not present in store at ${blobPath} and auto_pull is disabled. Run \`inferd pull\` or set auto_pull: true in config.`,
          { detail: { name: spec.name, path: blobPath } },
        );
      } else {
        if (!options.retryKnownMismatch) await refuseKnownMismatch(store, spec.sha256, spec.url);
        try {
          sizeBytes = (await download(store, spec, options, emit)).bytes;
        } catch (err) {
          if (err instanceof InferdError && err.code === 'checksum_mismatch') {
            const detail = err.detail as { actual_sha256: string; quarantine_path: string };
            await recordMismatch(store, { url: spec.url, expected_sha256: spec.sha256, actual_sha256: detail.actual_sha256, quarantine_path: detail.quarantine_path });
          }
          throw err;
        }
        await clearMismatch(store, spec.sha256);
        source = 'download';
      }
    } finally {
      await blobLock.release();
    }
    await ensureManifest(store, spec, sizeBytes);
    return { name: spec.name, sha256: spec.sha256, path: blobPath, sizeBytes, source };
  } finally {
    await nameLock.release();
  }
}

async function runUrl(store: ModelStore, spec: UrlPullSpec, options: UrlPullOptions, emit: (event: LoadPhase) => void): Promise<PullResult> {
  const key = pullKey(spec.url);
  emit({ phase: 'checking_local', path: store.layout.pullDir(key) });
  const lockOpts = lockOptions(options);
  const nameLock = await store.lockName(spec.name, lockOpts);
  try {
    // Lock order: name, pull, then (inside downloadBlob, once the digest is known) blob.
    const pullLock = await store.lockPull(key, lockOpts);
    let got: { bytes: number; sha256: string };
    try {
      got = await download(store, { ...spec, sha256: null }, options, emit);
    } finally {
      await pullLock.release();
    }
    const pinned = { ...spec, sha256: got.sha256 };
    await ensureManifest(store, pinned, got.bytes);
    return { name: spec.name, sha256: got.sha256, path: store.blobPath(got.sha256), sizeBytes: got.bytes, source: 'download' };
  } finally {
    await nameLock.release();
  }
}

async function download(
  store: ModelStore,
  spec: Omit<PullSpec, 'sha256'> & { sha256: string | null },
  options: PullOptions & { check?: UrlPullOptions['check'] | undefined },
  emit: (event: LoadPhase) => void,
) {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  // Every hop's host is checked by the guard; with our own Agent, connections also go only to
  // the addresses it checked. A caller's dispatcher does its own connecting (tests, embedders).
  const guard = new HostGuard({ allowPrivate: options.allowPrivate, resolve: options.resolveHost });
  // A refused host fails here, before any directory or partial is made for the download. DNS
  // errors are left to the attempt loop, which retries them as before.
  await guard.admit(new URL(spec.url)).catch((err: unknown) => {
    if (err instanceof InferdError) throw err;
  });
  const agent = options.dispatcher ? null : createDownloadAgent({ caPem: options.caPem, timeouts, lookup: guard.lookup });
  try {
    return await downloadBlob(store, spec, {
      dispatcher: options.dispatcher ?? agent!,
      timeouts,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      cadence: { ...DEFAULT_CADENCE, ...options.progress },
      maxRedirects: options.maxRedirects ?? DEFAULT_MAX_REDIRECTS,
      sinkFactory: options.sinkFactory ?? fileSink,
      guard,
      maxBytes: options.maxBytes || null,
      emit,
      signal: options.signal,
      check: options.check,
    });
  } finally {
    await agent?.close();
  }
}

/**
 * The cached blob's size when it is good; null when absent or bad. A bad blob is quarantined
 * (with a `quarantine` frame) so the caller downloads it again.
 */
async function checkCached(
  store: ModelStore,
  spec: PullSpec,
  mode: 'size' | 'sha256',
  emit: (event: LoadPhase) => void,
  signal: AbortSignal | undefined,
): Promise<number | null> {
  const path = store.blobPath(spec.sha256);
  const size = await store.blobSize(spec.sha256);
  if (size === null) return null;
  const expected = spec.sizeBytes ?? null;
  // Hash only when asked to, or when the cheap checks already look wrong (then the hash both
  // decides and names the actual digest for the quarantine frame).
  if (mode === 'size' && size > 0 && (expected === null || expected === size)) return size;
  const { sha256: actual } = await sha256File(path, { signal });
  if (digestEquals(spec.sha256, actual)) return size;
  const moved = await store.quarantine(path, shaMismatchReason(spec.sha256, actual));
  await rm(store.layout.blobDir(spec.sha256), { recursive: true, force: true });
  emit(quarantineFrame(path, spec.sha256, actual, moved));
  return null;
}

/** Writes the manifest unless an identical mapping is already there. Caller holds the name lock. */
async function ensureManifest(store: ModelStore, spec: PullSpec, sizeBytes: number): Promise<void> {
  let current = null;
  try {
    current = await store.readManifest(spec.name);
  } catch (err) {
    if (!(err instanceof InferdError && err.code === 'store_invalid')) throw err;
  }
  const license = spec.license ?? null;
  if (current && manifestSha256(current) === spec.sha256 && current.size_bytes === sizeBytes && current.license === license) return;
  await store.writeManifest({ name: spec.name, sha256: spec.sha256, sizeBytes, license, source: sourceFromUrl(spec.url) });
}
