// Which download failures are worth another attempt, and how long to wait before it.
// Transient: connection refused/reset, timeouts, a truncated body, HTTP 5xx, 408, 429.
// Everything else (404, 403, TLS verification, size mismatch, checksum mismatch, disk full)
// fails at once: retrying cannot change the answer, and a checksum mismatch retried in a loop
// is exactly how the reference daemon re-downloaded 5 GB forever (contract §9 item 7).
import { InferdError } from '../errors.js';
import { sleep } from '../store/abortable.js';
import { errnoCode } from '../store/fs-atomic.js';

export interface RetryPolicy {
  /** Consecutive failed attempts (without any new bytes) before giving up. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 4_000 };

/** A failure the download loop may retry; `cause` is the underlying error. */
export class TransientError extends Error {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { cause?: unknown; retryAfterMs?: number | undefined } = {}) {
    super(message, { cause: options.cause });
    this.name = 'TransientError';
    this.retryAfterMs = options.retryAfterMs;
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** True for network-level errors (as thrown by undici or the socket) worth retrying. */
export function isTransientNetworkError(err: unknown): boolean {
  const code = errnoCode(err);
  if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return cause !== undefined && cause !== err && isTransientNetworkError(cause);
}

/** Delay before retry number `n` (1-based): exponential, capped, with jitter. */
export function backoffMs(policy: RetryPolicy, n: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(policy.maxDelayMs, Math.max(0, retryAfterMs));
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
  // Jitter in [50%, 100%] so a fleet restarting together does not retry in lockstep.
  return Math.round(exp / 2 + (Math.random() * exp) / 2);
}

/** `Retry-After` as milliseconds (seconds or an HTTP date), if present and sane. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export async function waitBeforeRetry(ms: number, signal: AbortSignal | undefined): Promise<void> {
  await sleep(ms, signal);
}

/** Short description of a network error for messages. */
export function describeError(err: unknown): string {
  if (err instanceof InferdError) return err.message;
  const code = errnoCode(err);
  const msg = err instanceof Error ? err.message : String(err);
  const cause = (err as { cause?: unknown }).cause;
  const causeMsg = cause instanceof Error && cause.message !== msg ? ` (${cause.message})` : '';
  return code && !msg.includes(code) ? `${code}: ${msg}${causeMsg}` : `${msg}${causeMsg}`;
}
