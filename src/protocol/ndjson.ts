// NDJSON framing (contract §1.1): one JSON object per line, UTF-8, terminated by a single `\n`,
// at most 64 MiB per frame. Every NDJSON transport (HTTP chunked, infer.sock, admin.sock)
// frames through this file.
import { InferdError } from '../errors.js';

/** `MAX_FRAME_BYTES = 64 << 20` in the reference: the largest accepted payload, `\n` excluded. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export const NDJSON_CONTENT_TYPE = 'application/x-ndjson';

/**
 * `frame` (a JSON text) as one NDJSON line. JSON.stringify never emits raw newlines, so a
 * newline here is a bug that would split the frame on the wire. The writer cap mirrors the
 * reference: a frame of 64 MiB or more is refused.
 */
export function ndjsonLine(frame: string): string {
  if (frame.includes('\n') || frame.includes('\r')) {
    throw new InferdError('internal', 'NDJSON frame contains a raw newline');
  }
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short frames skip the byte count.
  if (frame.length * 3 >= MAX_FRAME_BYTES && Buffer.byteLength(frame, 'utf8') >= MAX_FRAME_BYTES) {
    throw new InferdError('frame_too_large', `frame exceeds ${MAX_FRAME_BYTES} byte cap`, {
      detail: { maxFrameBytes: MAX_FRAME_BYTES },
    });
  }
  return `${frame}\n`;
}
