// How request bodies become values: the one body parser of the HTTP app. Only JSON media types
// are read. A form or text/plain body is what a cross-site page can send without a preflight,
// so anything else is refused with 415 unsupported_media_type (error-handler.ts) before a route
// runs.
import type { FastifyInstance } from 'fastify';
import { decodeJsonSliced } from '../protocol/json-decode.js';

/** The media types read as JSON; a route that documents another one adds it here. */
export const JSON_MEDIA_TYPES: readonly string[] = ['application/json'];

/** The JSON decoding of a request body: an empty body is no body. Large bodies take several turns. */
export async function decodeJsonBody(bytes: Buffer): Promise<unknown> {
  if (isBlank(bytes)) return undefined;
  return decodeJsonSliced(bytes);
}

export function installJsonBodyParser(app: FastifyInstance): void {
  // Fastify's defaults include text/plain; only what is listed here may carry a body.
  // Bytes, not a string: decoding here would hide invalid UTF-8 behind U+FFFD. decodeJson is
  // the decoder infer.sock uses too, so both answer the same bad bytes the same way (and
  // `__proto__` keys get a coded answer naming the key instead of "Body is not valid JSON").
  // A 1 MB body is decoded over several event-loop turns (json-decode.ts), so other requests
  // are served meanwhile.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...JSON_MEDIA_TYPES], { parseAs: 'buffer' }, (_request, body, done) => {
    decodeJsonBody(typeof body === 'string' ? Buffer.from(body, 'utf8') : body).then(
      (value) => done(null, value),
      (err: unknown) => done(err as Error, undefined),
    );
  });
}

/** Only JSON whitespace (an empty body): no value, so the schema reports the missing body. */
function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return false;
  return true;
}
