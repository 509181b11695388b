// Picks the stream framing from the Accept header (DESIGN.md): SSE when the client accepts
// text/event-stream, NDJSON otherwise; `?format=` wins where a route offers it.
import type { StatusStreamFormat } from '../protocol/status-pump.js';

export function streamFormat(accept: string | undefined, override?: string): StatusStreamFormat {
  if (override === 'sse' || override === 'ndjson') return override;
  return accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept) ? 'sse' : 'ndjson';
}
