// How request bodies become values: the one body parser of the HTTP app.
import type { FastifyInstance } from 'fastify';
import { decodeJson } from '../protocol/json-decode.js';

export function installJsonBodyParser(app: FastifyInstance): void {
  // `curl -d '{...}'` sends form encoding by default; read any body as JSON rather than
  // answering 415 to the most common first try.
  // Bytes, not a string: decoding here would hide invalid UTF-8 behind U+FFFD. decodeJson is
  // the decoder infer.sock uses too, so both answer the same bad bytes the same way.
  // Fastify's own JSON parser answers `__proto__` with "Body is not valid JSON" and lets lone
  // surrogates through; every JSON body goes through decodeJson instead.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (isBlank(bytes)) return done(null, undefined);
    try {
      done(null, decodeJson(bytes));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

/** Only JSON whitespace (an empty body): no value, so the schema reports the missing body. */
function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return false;
  return true;
}
