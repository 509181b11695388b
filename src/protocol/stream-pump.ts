// A transport-agnostic writer for streaming responses: an http.ServerResponse or a net.Socket.
// It honours backpressure (write() false → wait for 'drain'), bounds every wait with the
// write timeout of contract F-17 (a reader that stops reading is destroyed, so it cannot hold
// a slot or memory forever), and turns "the peer went away" into one AbortSignal that callers
// hand down to generation.
import type { Writable } from 'node:stream';
import { InferdError } from '../errors.js';

export interface StreamPumpOptions {
  /** Longest wait for 'drain' (or for end() to flush) before the stream is destroyed; 0 = off. */
  writeTimeoutMs?: number;
}

/** Why the peer is gone, in `detail.reason` of the abort reason. */
export type PeerGoneReason = 'closed' | 'error' | 'write_timeout' | 'destroyed';

interface Waiter {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

const noop = (): void => {};
/** Longest wait for a timed-out reader to take the end of its stream before it is dropped. */
const MAX_END_GRACE_MS = 10_000;
const RESOLVED: Promise<void> = Promise.resolve();

/** A rejected promise that does not count as unhandled when a caller drops it. */
function rejected(err: unknown): Promise<void> {
  const p = Promise.reject(err);
  p.catch(noop);
  return p;
}

function peerGone(reason: PeerGoneReason, message: string, cause?: unknown): InferdError {
  return new InferdError('socket_error', message, { cause, detail: { reason } });
}

export class StreamPump {
  readonly #dest: Writable;
  readonly #timeoutMs: number;
  readonly #ac = new AbortController();
  #drain: Waiter | undefined;
  #end: Waiter | undefined;
  #finished = false;

  constructor(dest: Writable, options: StreamPumpOptions = {}) {
    const timeout = options.writeTimeoutMs ?? 0;
    if (!Number.isFinite(timeout) || timeout < 0) {
      throw new InferdError('internal', `writeTimeoutMs must be >= 0, got ${String(timeout)}`);
    }
    this.#dest = dest;
    this.#timeoutMs = timeout;
    dest.on('drain', this.#onDrain);
    dest.on('finish', this.#onFinish);
    dest.on('error', this.#onError);
    dest.on('close', this.#onClose);
    if (dest.destroyed) this.#fail(peerGone('closed', 'peer is gone'));
  }

  /** Aborts when the peer is gone (closed, errored, write timeout, destroyed); reason is an InferdError. */
  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  get gone(): boolean {
    return this.#ac.signal.aborted;
  }

  /** True while a write is waiting for the peer to read ('drain'). */
  get blocked(): boolean {
    return this.#drain !== undefined;
  }

  /**
   * Writes a chunk. Resolves at once while the stream accepts data, otherwise on 'drain';
   * rejects with a `socket_error` InferdError when the peer goes away or the wait times out.
   * Await each write: that is what keeps memory bounded for a slow reader.
   */
  write(chunk: string | Uint8Array): Promise<void> {
    if (this.gone) return rejected(this.#ac.signal.reason);
    if (this.#end) return rejected(new InferdError('internal', 'write after end'));
    if (this.#dest.write(chunk)) return RESOLVED;
    this.#drain ??= this.#waiter('drain');
    return this.#drain.promise;
  }

  /** Ends the stream (optionally with a last chunk); resolves once everything is flushed. */
  end(chunk?: string | Uint8Array): Promise<void> {
    if (this.#finished) return RESOLVED;
    if (this.gone) return rejected(this.#ac.signal.reason);
    if (this.#end) return this.#end.promise;
    this.#end = this.#waiter('end');
    if (chunk === undefined) this.#dest.end();
    else this.#dest.end(chunk);
    return this.#end.promise;
  }

  /** Drops the connection now (e.g. a stalled reader); the signal aborts with `reason`. */
  destroy(reason: PeerGoneReason = 'destroyed', message = 'stream destroyed'): void {
    this.#fail(peerGone(reason, message));
    this.#dest.destroy();
  }

  /**
   * The peer stopped reading. Its request is cancelled at once (the signal aborts, so the slot is
   * free), but the stream is ended rather than reset: the terminator queues behind the unread
   * bytes, and a reader that resumes within one more timeout period still sees a well-formed
   * end. Only a reader that never resumes is dropped, since nothing can reach it anyway.
   */
  #writeTimedOut(what: 'drain' | 'end'): void {
    const dest = this.#dest;
    this.#fail(peerGone('write_timeout', `peer did not read for ${this.#timeoutMs} ms (${what})`));
    if (dest.destroyed) return;
    if (!dest.writableEnded) dest.end();
    const grace = setTimeout(() => dest.destroy(), Math.min(this.#timeoutMs, MAX_END_GRACE_MS));
    grace.unref();
    dest.once('close', () => clearTimeout(grace));
  }

  #waiter(what: 'drain' | 'end'): Waiter {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(noop);
    const timer =
      this.#timeoutMs > 0 ? setTimeout(() => this.#writeTimedOut(what), this.#timeoutMs) : undefined;
    return { promise, resolve, reject, timer };
  }

  readonly #onDrain = (): void => {
    const waiter = this.#drain;
    if (!waiter) return;
    this.#drain = undefined;
    clearTimeout(waiter.timer);
    waiter.resolve();
  };

  readonly #onFinish = (): void => {
    const waiter = this.#end;
    if (!waiter) {
      // Ended without our end(): a net.Socket without allowHalfOpen does that when the peer
      // sends FIN. Nothing more can be written, so the peer is gone for our purposes.
      this.#fail(peerGone('closed', 'peer ended the connection'));
      return;
    }
    this.#finished = true;
    this.#onDrain();
    clearTimeout(waiter.timer);
    waiter.resolve();
  };

  readonly #onError = (err: Error): void => {
    this.#fail(peerGone('error', `peer connection failed: ${err.message}`, err));
  };

  readonly #onClose = (): void => {
    // 'close' after our own end() has flushed is the normal end of a response, not a loss.
    // Ending the stream directly (not through end()) therefore counts as the peer leaving.
    if (!this.#finished) this.#fail(peerGone('closed', 'peer closed the connection'));
    const dest = this.#dest;
    dest.off('drain', this.#onDrain);
    dest.off('finish', this.#onFinish);
    dest.off('close', this.#onClose);
    // The error listener stays: a late 'error' with no listener would crash the process.
  };

  #fail(err: InferdError): void {
    if (this.#ac.signal.aborted) return;
    this.#ac.abort(err);
    for (const waiter of [this.#drain, this.#end]) {
      if (!waiter) continue;
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
    this.#drain = undefined;
  }
}
