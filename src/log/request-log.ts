// One log line per request, on every transport: HTTP requests (every route and API family,
// streaming or not, admin subscriptions included), infer.sock requests and admin.sock
// subscriptions. The line is written when the request is over, however it ended, so cut-offs
// (write timeout, lagged subscriber, disconnect, server closing) are in it as the outcome.
// Prompts and bodies are never logged; only ids, sizes, codes and timings.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { RequestListener } from '../metrics/metrics.js';

/** What the request learnt about itself while it ran. */
export interface RequestLogRecord {
  readonly startedAt: number;
  /** A stop/finish reason (`end`, `stop`, `length`, `cancelled`), `ok`, or an error code. */
  outcome?: string;
  promptTokens?: number;
  completionTokens?: number;
  /** Why the stream was cut: `write_timeout`, `lagged`, `client_closed`, `server_closing`. */
  cut?: string;
}

/** The fields every request line has, whatever the transport. */
export interface RequestLine {
  transport: 'http' | 'infer.sock' | 'admin.sock';
  /** Ours: Fastify's request id, or `sock-<n>` on the Unix sockets. */
  req_id: string;
  /** The client's `id` field, when its request had one. */
  id?: string | undefined;
  outcome: string;
  duration_ms: number;
  prompt_tokens?: number | undefined;
  completion_tokens?: number | undefined;
}

export interface RequestLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

const context = new AsyncLocalStorage<RequestLogRecord>();

export function newRequestLog(): RequestLogRecord {
  return { startedAt: performance.now() };
}

/** Runs `fn` with `record` as the current request, so the metrics listener below can fill it. */
export function runWithRequestLog<T>(record: RequestLogRecord, fn: () => T): T {
  return context.run(record, fn);
}

/**
 * A metrics listener that copies each finished request's outcome and tokens into the request
 * that ran it. Every route reports to Metrics already, so new API families need nothing more.
 */
export function requestLogListener(): RequestListener {
  return {
    finished(finished) {
      const record = context.getStore();
      if (!record) return;
      record.outcome = finished.outcome;
      record.promptTokens = finished.promptTokens;
      record.completionTokens = finished.completionTokens;
    },
  };
}

/** Marks why a stream ended early; the first reason wins. */
export function noteCut(record: RequestLogRecord | undefined, cut: string): void {
  if (record && record.cut === undefined) record.cut = cut;
}

/** The outcome field: a cut-off beats what generation reported, which beats `fallback`. */
export function outcomeOf(record: RequestLogRecord, fallback: string): string {
  return record.cut ?? record.outcome ?? fallback;
}

export function durationMs(record: RequestLogRecord): number {
  return Math.round((performance.now() - record.startedAt) * 10) / 10;
}

/** Writes the line: info, or warn for server-side failures. */
export function writeRequestLine(log: RequestLogger, line: RequestLine & Record<string, unknown>, serverError = false): void {
  if (serverError) log.warn(line, 'request');
  else log.info(line, 'request');
}
