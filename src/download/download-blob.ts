// Download of one blob into its partial, with resume, retries, streaming SHA-256, verify,
// quarantine and promotion. The caller holds the blob lock and has found the blob absent.
//
// One attempt: restore the partial's state (sidecar + re-hash of the bytes on disk, or the
// in-memory state of the previous attempt), GET with `Range`/`If-Range` when resuming, accept
// a 206 only if its Content-Range starts where the partial ends, start over from 0 on a 200,
// a 416 or a mismatched range, stream body → hash + partial file, and check the byte count.
// Bytes never reach the blob path before the digest matched.
//
// A pull by URL without a pinned digest downloads into `.pull-<SHA-256 of the URL>/` instead
// (same resume rules), computes the digest of what arrived, has the caller's check (the GGUF
// check) validate the bytes, and only then promotes them to the blob of that digest. Bytes the
// check refuses go to quarantine.
import { createHash, type Hash } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import type { Dispatcher } from 'undici';
import { InferdError } from '../errors.js';
import type { LoadPhase } from '../status/events.js';
import { ensureDir, errnoCode, regularFileSize } from '../store/fs-atomic.js';
import { checkFreeSpace, writeFailure } from './disk.js';
import { header, openGet, parseContentRange, parseLength, redact, type HttpTimeouts, type OpenedResponse } from './http.js';
import { ProgressTicker, type ProgressCadence } from './progress.js';
import {
  backoffMs,
  describeError,
  isTransientNetworkError,
  isTransientStatus,
  parseRetryAfter,
  TransientError,
  waitBeforeRetry,
  type RetryPolicy,
} from './retry.js';
import type { FileSink, SinkFactory } from './sink.js';
import type { HostGuard } from './host-guard.js';
import { quarantineFrame } from './quarantine-frame.js';
import { digestEquals, hashFile } from '../store/hash.js';
import { PRODUCED_BY } from '../store/manifest.js';
import type { ModelStore } from '../store/model-store.js';
import { shaMismatchReason } from '../store/quarantine.js';
import { ifRangeValidator, readSidecar, writeSidecar, type Sidecar } from '../store/sidecar.js';

export interface DownloadSpec {
  /** The pinned digest, or null to compute it from what arrives (then `check` must accept the bytes). */
  sha256: string | null;
  url: string;
  sizeBytes?: number | null | undefined;
}

export interface DownloadContext {
  dispatcher: Dispatcher;
  timeouts: HttpTimeouts;
  retry: RetryPolicy;
  cadence: ProgressCadence;
  maxRedirects: number;
  sinkFactory: SinkFactory;
  guard?: HostGuard | undefined;
  /** `max_model_bytes`: null for no cap. */
  maxBytes?: number | null | undefined;
  emit: (event: LoadPhase) => void;
  signal?: AbortSignal | undefined;
  /**
   * For a download without a pinned digest: validates the complete file before it becomes a blob
   * (a throw quarantines the bytes and fails the download with that error's code).
   */
  check?: ((file: string) => Promise<unknown>) | undefined;
}

export interface DownloadedBlob {
  path: string;
  bytes: number;
  /** The pinned digest, or the one computed for a pull without one. */
  sha256: string;
}

/** Hard cap on attempts, even when each one makes progress. */
const MAX_TOTAL_ATTEMPTS = 100;

interface PartialState {
  offset: number;
  hash: Hash;
  sidecar: Sidecar | null;
}

type AttemptResult = { kind: 'complete'; hash: Hash; bytes: number } | { kind: 'restart' };

/**
 * Downloads, verifies and promotes blob `spec.sha256`. Returns the blob path, size and digest.
 * The caller holds the blob lock, or for `sha256: null` the pull lock of the URL (the blob lock
 * is then taken here, once the digest is known).
 */
export async function downloadBlob(store: ModelStore, spec: DownloadSpec, ctx: DownloadContext): Promise<DownloadedBlob> {
  const job = new DownloadJob(store, spec, ctx);
  return job.run();
}

/** The key of a pull by URL without a digest: the SHA-256 of the URL, so a retry resumes the same partial. */
export function pullKey(url: string): string {
  return createHash('sha256').update(url).digest('hex');
}

class DownloadJob {
  /** `.partial-<sha256>/`, or `.pull-<url key>/` while the digest is not known. */
  private readonly dir: string;
  private readonly dataPath: string;
  private readonly sidecarPath: string;
  private readonly ticker: ProgressTicker;
  /** State carried between attempts of this run, valid when the partial was flushed cleanly. */
  private carry: PartialState | null = null;

  constructor(
    private readonly store: ModelStore,
    private readonly spec: DownloadSpec,
    private readonly ctx: DownloadContext,
  ) {
    if (spec.sha256 !== null) {
      this.dir = store.layout.partialDir(spec.sha256);
      this.dataPath = store.layout.partialDataPath(spec.sha256);
      this.sidecarPath = store.layout.sidecarPath(spec.sha256);
    } else {
      const key = pullKey(spec.url);
      this.dir = store.layout.pullDir(key);
      this.dataPath = store.layout.pullDataPath(key);
      this.sidecarPath = store.layout.pullSidecarPath(key);
    }
    // Frames reach every admin subscriber: never a signed URL's query or a user:password.
    this.ticker = new ProgressTicker(redact(new URL(spec.url)), ctx.cadence, (frame) => ctx.emit(frame));
  }

  private get where(): string {
    return redact(new URL(this.spec.url));
  }

  async run(): Promise<DownloadedBlob> {
    if (this.spec.sha256 !== null) await ensureDir(this.store.layout.fanoutDir(this.spec.sha256));
    await mkdir(this.dir, { recursive: true });
    let failures = 0;
    for (let attempt = 1; ; attempt++) {
      this.ctx.signal?.throwIfAborted();
      const before = this.carry?.offset ?? ((await regularFileSize(this.dataPath)) ?? 0);
      let result: AttemptResult;
      try {
        result = await this.attempt();
      } catch (err) {
        if (this.ctx.signal?.aborted) throw this.ctx.signal.reason;
        if (!(err instanceof TransientError)) throw err;
        const after = this.carry?.offset ?? 0;
        failures = after > before ? 1 : failures + 1;
        if (failures >= this.ctx.retry.attempts || attempt >= MAX_TOTAL_ATTEMPTS) {
          throw new InferdError('download_failed', `download of ${this.where} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${err.message}`, {
            cause: err.cause ?? err,
            detail: { url: this.where, attempts: attempt, reason: 'retries_exhausted', partial_bytes: after },
          });
        }
        await waitBeforeRetry(backoffMs(this.ctx.retry, failures, err.retryAfterMs), this.ctx.signal);
        continue;
      }
      if (result.kind === 'restart') {
        failures++;
        if (failures >= this.ctx.retry.attempts) {
          throw new InferdError('download_failed', `download of ${this.where} failed: the server kept rejecting the resumed range`, {
            detail: { url: this.where, reason: 'range_rejected' },
          });
        }
        continue;
      }
      return this.verifyAndPromote(result.hash, result.bytes);
    }
  }

  /** The state of the partial on disk: resumable bytes with their hash, or a fresh start. */
  private async loadPartial(): Promise<PartialState> {
    if (this.carry) {
      const size = await regularFileSize(this.dataPath);
      if (size === this.carry.offset) return this.carry;
      this.carry = null;
    }
    const fresh = async (): Promise<PartialState> => {
      await rm(this.dataPath, { force: true });
      await rm(this.sidecarPath, { force: true });
      return { offset: 0, hash: createHash('sha256'), sidecar: null };
    };
    const size = await regularFileSize(this.dataPath);
    const sidecar = await readSidecar(this.sidecarPath);
    if (!size || !sidecar) return fresh();
    const sizeBytes = this.spec.sizeBytes ?? null;
    if (sidecar.url !== this.spec.url || sidecar.sha256 !== this.spec.sha256 || ifRangeValidator(sidecar) === null) return fresh();
    if (sidecar.total_bytes !== null && (size > sidecar.total_bytes || (sizeBytes !== null && sidecar.total_bytes !== sizeBytes))) {
      return fresh();
    }
    // Restore the running hash from the bytes already on disk (one read of the partial).
    const { hash, bytes } = await hashFile(this.dataPath, { signal: this.ctx.signal });
    return { offset: bytes, hash, sidecar };
  }

  private async attempt(): Promise<AttemptResult> {
    const state = await this.loadPartial();
    // Keep the restored state, so a retry after e.g. a 503 does not re-hash the partial again.
    this.carry = state.offset > 0 ? state : null;
    if (state.offset > 0 && state.sidecar?.total_bytes === state.offset) {
      return { kind: 'complete', hash: state.hash, bytes: state.offset };
    }
    const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': PRODUCED_BY };
    const validator = state.sidecar ? ifRangeValidator(state.sidecar) : null;
    if (state.offset > 0 && validator) {
      headers.range = `bytes=${state.offset}-`;
      headers['if-range'] = validator;
    }
    let res: OpenedResponse;
    try {
      res = await openGet(this.spec.url, {
        dispatcher: this.ctx.dispatcher,
        headers,
        signal: this.ctx.signal,
        timeouts: this.ctx.timeouts,
        maxRedirects: this.ctx.maxRedirects,
        guard: this.ctx.guard,
      });
    } catch (err) {
      throw this.classify(err, 'request');
    }
    let consumed = false;
    try {
      const start = await this.startOf(res, state);
      if (start === 'restart') return { kind: 'restart' };
      consumed = true;
      return await this.stream(res, state, start.offset, start.total);
    } finally {
      if (!consumed) await res.body.dump().catch(() => undefined);
    }
  }

  /** Decides where the response body starts, or that the partial must be discarded. */
  private async startOf(res: OpenedResponse, state: PartialState): Promise<{ offset: number; total: number | null } | 'restart'> {
    const status = res.statusCode;
    const sizeBytes = this.spec.sizeBytes ?? null;
    if (status === 416) {
      if (state.offset === 0) throw this.fatal(`server answered 416 Range Not Satisfiable to a plain GET`, 'http_status', status);
      await this.discardPartial();
      return 'restart';
    }
    if (status !== 200 && status !== 206) {
      if (isTransientStatus(status)) {
        throw new TransientError(`HTTP ${status}`, { retryAfterMs: parseRetryAfter(header(res.headers, 'retry-after')) });
      }
      throw this.fatal(`HTTP ${status} (not retried)`, 'http_status', status);
    }
    let offset = 0;
    let serverTotal: number | null;
    if (status === 206) {
      const range = parseContentRange(header(res.headers, 'content-range'));
      if (range === null || range.start !== state.offset) {
        // A range that does not start where our bytes end cannot be spliced on: start over.
        await this.discardPartial();
        return 'restart';
      }
      offset = range.start;
      serverTotal = range.total;
    } else {
      const length = parseLength(header(res.headers, 'content-length'));
      serverTotal = length;
    }
    if (serverTotal !== null && sizeBytes !== null && serverTotal !== sizeBytes) {
      await this.discardPartial();
      throw this.fatal(`size mismatch: the server reports ${serverTotal} bytes but model.size_bytes is ${sizeBytes}`, 'size_mismatch');
    }
    const total = serverTotal ?? sizeBytes;
    if (total !== null) await this.checkCap(total);
    return { offset, total };
  }

  /**
   * `max_model_bytes`: refused as soon as the size is known, or once the stream passes it. The
   * partial is removed: it can never complete under this cap, and keeping up to a cap's worth of
   * unwanted bytes is the disk use the cap exists to prevent.
   */
  private async checkCap(bytes: number): Promise<void> {
    const cap = this.ctx.maxBytes ?? null;
    if (cap === null || bytes <= cap) return;
    await this.discardPartial();
    throw new InferdError('download_failed', `download of ${this.where} refused: the model is larger than max_model_bytes (${cap} bytes)`, {
      detail: { url: this.where, reason: 'too_large', max_model_bytes: cap },
    });
  }

  private async stream(res: OpenedResponse, state: PartialState, offset: number, total: number | null): Promise<AttemptResult> {
    const hash = offset === 0 ? createHash('sha256') : state.hash;
    // A 206 matched our If-Range; if it omits validators, the ones it matched still hold.
    const kept = offset > 0 ? state.sidecar : null;
    const sidecar: Sidecar = {
      url: this.spec.url,
      etag: header(res.headers, 'etag') ?? kept?.etag ?? null,
      last_modified: header(res.headers, 'last-modified') ?? kept?.last_modified ?? null,
      total_bytes: total,
      sha256: this.spec.sha256,
    };
    // The hash and the file change from here on; the carried state is re-set once they agree.
    this.carry = null;
    // Order matters for crash safety: truncate the old bytes before recording new validators.
    const sink = await this.openSink(offset);
    let received = offset;
    try {
      if (offset === 0 || !sameSidecar(sidecar, state.sidecar)) await writeSidecar(this.sidecarPath, sidecar);
      if (total !== null) await checkFreeSpace(this.dir, total - offset, this.store.root);
      this.ticker.start(offset, total);
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        if (total !== null && received + chunk.length > total) {
          await sink.abort();
          await this.discardPartial();
          throw this.fatal(`the server sent more than the expected ${total} bytes`, 'size_mismatch');
        }
        if (this.ctx.maxBytes != null && received + chunk.length > this.ctx.maxBytes) {
          await sink.abort();
          await this.checkCap(received + chunk.length);
        }
        hash.update(chunk);
        received += chunk.length;
        const pending = sink.write(chunk);
        if (pending) await this.waitForSink(sink, pending);
        this.ticker.tick(received);
      }
    } catch (err) {
      if (err instanceof InferdError) {
        await sink.abort();
        throw err;
      }
      // A network failure mid-body: flush what arrived so the next attempt continues from it.
      await this.closeSink(sink);
      this.carry = { offset: received, hash, sidecar };
      throw this.classify(err, 'body', received, total);
    }
    await this.closeSink(sink);
    this.carry = { offset: received, hash, sidecar };
    if (total !== null && received < total) {
      throw new TransientError(`connection closed after ${received} of ${total} bytes (truncated body)`);
    }
    return { kind: 'complete', hash, bytes: received };
  }

  private async verifyAndPromote(hash: Hash, bytes: number): Promise<DownloadedBlob> {
    const { sha256 } = this.spec;
    this.ticker.finish(bytes);
    this.ctx.emit({ phase: 'verify', path: this.dataPath });
    // The digest was computed while streaming: no second pass over a clean download.
    const actual = hash.digest('hex');
    if (sha256 === null) return this.checkAndPromote(actual, bytes);
    if (!digestEquals(sha256, actual)) {
      const moved = await this.store.quarantine(this.dataPath, shaMismatchReason(sha256, actual));
      const quarantinePath = moved.path;
      await rm(this.store.layout.partialDir(sha256), { recursive: true, force: true });
      this.ctx.emit(quarantineFrame(this.dataPath, sha256, actual, moved));
      throw new InferdError(
        'checksum_mismatch',
        `SHA-256 mismatch for ${this.where}: expected ${sha256}, got ${actual}; the ${bytes} bytes were quarantined to ${quarantinePath}. ` +
          'Not retrying: check model.sha256, or pin source_url to an immutable revision.',
        { detail: { expected_sha256: sha256, actual_sha256: actual, quarantine_path: quarantinePath, url: this.where } },
      );
    }
    const path = await this.store.promoteBlob(sha256, this.dataPath);
    await rm(this.store.layout.partialDir(sha256), { recursive: true, force: true });
    return { path, bytes, sha256 };
  }

  /**
   * No digest was pinned: what arrived is validated by the caller's check instead, then becomes
   * the blob of the digest it has. Refused bytes are quarantined and never enter the store.
   */
  private async checkAndPromote(actual: string, bytes: number): Promise<DownloadedBlob> {
    try {
      if (!this.ctx.check) throw new InferdError('internal', 'a download without a pinned sha256 needs a check of its bytes');
      await this.ctx.check(this.dataPath);
    } catch (err) {
      const moved = await this.store.quarantine(this.dataPath, `refused-${actual.slice(0, 12)}`);
      await rm(this.dir, { recursive: true, force: true });
      if (!(err instanceof InferdError)) throw err;
      // The check names our private partial; the user knows the file by its URL.
      const message = err.message.split(this.dataPath).join(this.where);
      throw new InferdError(err.code, `${message}; the ${bytes} bytes (sha256 ${actual}) were quarantined to ${moved.path} and nothing entered the store`, {
        cause: err,
        detail: { url: this.where, actual_sha256: actual, quarantine_path: moved.path },
      });
    }
    const lock = await this.store.lockBlob(actual, { signal: this.ctx.signal });
    try {
      // The same bytes may already be a blob (another name, or an earlier pull): keep that one.
      if ((await this.store.blobSize(actual)) === null) await this.store.promoteBlob(actual, this.dataPath);
    } finally {
      await lock.release();
    }
    await rm(this.dir, { recursive: true, force: true });
    return { path: this.store.blobPath(actual), bytes, sha256: actual };
  }

  private async openSink(offset: number): Promise<FileSink> {
    try {
      return await this.ctx.sinkFactory(this.dataPath, offset);
    } catch (err) {
      throw writeFailure(err, this.dataPath);
    }
  }

  private async waitForSink(sink: FileSink, pending: Promise<void>): Promise<void> {
    try {
      await pending;
    } catch (err) {
      await sink.abort();
      throw writeFailure(err, this.dataPath);
    }
  }

  private async closeSink(sink: FileSink): Promise<void> {
    try {
      await sink.close();
    } catch (err) {
      this.carry = null;
      throw writeFailure(err, this.dataPath);
    }
  }

  private async discardPartial(): Promise<void> {
    this.carry = null;
    await rm(this.dataPath, { force: true });
    await rm(this.sidecarPath, { force: true });
  }

  private fatal(message: string, reason: string, status?: number): InferdError {
    return new InferdError('download_failed', `download of ${this.where} failed: ${message}`, {
      detail: { url: this.where, reason, ...(status === undefined ? {} : { status }) },
    });
  }

  private classify(err: unknown, stage: 'request' | 'body', received?: number, total?: number | null): Error {
    if (this.ctx.signal?.aborted) return this.ctx.signal.reason as Error;
    if (err instanceof InferdError || err instanceof TransientError) return err;
    if (isTransientNetworkError(err)) {
      const where = stage === 'body' ? ` after ${received} of ${total ?? '?'} bytes` : '';
      return new TransientError(`${describeError(err)}${where}`, { cause: err });
    }
    const code = errnoCode(err);
    const tls = code !== undefined && /CERT|SELF_SIGNED|TLS|SSL|VERIFY/.test(code);
    return this.fatal(`${describeError(err)}${tls ? ' (set ca_file to trust a private CA)' : ''}`, tls ? 'tls' : 'transport');
  }
}

function sameSidecar(a: Sidecar, b: Sidecar | null): boolean {
  return b !== null && a.url === b.url && a.etag === b.etag && a.last_modified === b.last_modified && a.total_bytes === b.total_bytes && a.sha256 === b.sha256;
}
