// Server-Sent Events framing (DESIGN.md "SSE"): every frame is `data: <frame JSON>\n\n`, with no
// `event:` name so `EventSource.onmessage` sees everything; admin frames add `id: <n>` so the
// browser can resume with Last-Event-ID; an idle stream gets a `: ping` comment.
import { InferdError } from '../errors.js';

export const SSE_CONTENT_TYPE = 'text/event-stream; charset=utf-8';

/** Response headers for every SSE stream; `X-Accel-Buffering: no` stops nginx from buffering. */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': SSE_CONTENT_TYPE,
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
});

/** The heartbeat comment. Comments are ignored by EventSource but keep proxies from timing out. */
export const SSE_PING = ': ping\n\n';

const LINE_BREAK = /\r\n|\r|\n/;

/**
 * One SSE message carrying `data`. The SSE parser ends a field at CR, LF or CRLF, so data with
 * a line break (never the case for JSON.stringify output, but cheap to guard) becomes several
 * `data:` lines, which the client joins back with `\n`.
 */
export function sseMessage(data: string, id?: number | string): string {
  let out = '';
  if (id !== undefined) {
    const valid = typeof id === 'number' ? Number.isSafeInteger(id) && id >= 0 : /^[\w.-]{1,64}$/.test(id);
    if (!valid) throw new InferdError('internal', `invalid SSE event id ${String(id)}`);
    out = `id: ${id}\n`;
  }
  if (!LINE_BREAK.test(data)) return `${out}data: ${data}\n\n`;
  for (const line of data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** The reconnection-delay preamble sent once at the start of a stream. */
export function sseRetry(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new InferdError('internal', `invalid SSE retry ${String(ms)}`);
  return `retry: ${ms}\n\n`;
}
