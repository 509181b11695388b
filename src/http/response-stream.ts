// A streaming HTTP response that starts lazily: headers go out with the first frame, so a
// failure before any output can still become a proper HTTP error status.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { NDJSON_CONTENT_TYPE, ndjsonLine } from '../protocol/ndjson.js';
import { SSE_HEADERS, sseMessage } from '../protocol/sse.js';
import type { StatusStreamFormat } from '../protocol/status-pump.js';
import { StreamPump } from '../protocol/stream-pump.js';
import { noteCut } from '../log/request-log.js';
import { requestLogOf } from './request-log.js';

export const NDJSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': NDJSON_CONTENT_TYPE,
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
});

/**
 * Starts a hijacked streaming response. Hijacking skips Fastify's own header writing, so the
 * headers that hooks already set on the reply (the CORS answer and `Vary: Origin` from the
 * edge guard) are carried over here; without them a browser on an allowed origin could not
 * read /admin/status or a streamed /infer.
 */
export function writeStreamHead(reply: FastifyReply, headers: Readonly<Record<string, string>>): void {
  reply.hijack();
  const merged: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) merged[name] = value;
  reply.raw.writeHead(200, { ...merged, ...headers });
}

export interface ResponseStream {
  readonly started: boolean;
  /** Aborts when the client is gone (closed, or stopped reading past the write timeout). */
  readonly signal: AbortSignal | undefined;
  /** Writes one frame (JSON text), starting the response if needed. Never throws. */
  frame(json: string): void;
  /** Writes the last frame and ends the response. Never throws. */
  finish(json: string): Promise<void>;
}

const ignore = (): void => {};

export function startStream(app: FastifyInstance, reply: FastifyReply, format: StatusStreamFormat, writeTimeoutMs: number): ResponseStream {
  let pump: StreamPump | null = null;
  let untrack = ignore;
  const encode = format === 'sse' ? (json: string) => sseMessage(json) : (json: string) => ndjsonLine(json);
  const begin = (): StreamPump => {
    writeStreamHead(reply, format === 'sse' ? SSE_HEADERS : NDJSON_HEADERS);
    const started = new StreamPump(reply.raw, { writeTimeoutMs });
    pump = started;
    untrack = app.streams.track(started);
    const record = requestLogOf(reply.request);
    started.signal.addEventListener('abort', () => noteCut(record, cutReason(started.signal.reason)), { once: true });
    return started;
  };
  return {
    get started() {
      return pump !== null;
    },
    get signal() {
      return pump?.signal;
    },
    frame(json) {
      // Not awaited: tokens arrive from a synchronous callback. A reader that stops reading
      // is cut off by the pump's write timeout, which also cancels the generation.
      (pump ?? begin()).write(encode(json)).catch(ignore);
    },
    async finish(json) {
      try {
        await (pump ?? begin()).end(encode(json));
      } catch {
        // The client is gone; the request was cancelled with it.
      } finally {
        untrack();
      }
    },
  };
}

/** The log outcome for a pump's abort reason (`detail.reason` of its socket_error). */
export function cutReason(reason: unknown): string {
  const why = (reason as { detail?: { reason?: unknown } } | undefined)?.detail?.reason;
  if (why === 'write_timeout') return 'write_timeout';
  if (why === 'destroyed') return 'server_closing';
  return 'client_closed';
}
