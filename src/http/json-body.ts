// How request bodies become values: the one body parser of the HTTP app. Only JSON media types
// are read. A form or text/plain body is what a cross-site page can send without a preflight,
// so anything else is refused with 415 unsupported_media_type (error-handler.ts) before a route
// runs.
import type { FastifyInstance } from 'fastify';

/** The media types read as JSON; a route that documents another one adds it here. */
export const JSON_MEDIA_TYPES: readonly string[] = ['application/json'];

/** The JSON decoding of a request body: an empty body is no body. */
export function decodeJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  return JSON.parse(text);
}

export function installJsonBodyParser(app: FastifyInstance): void {
  // Fastify's defaults include text/plain; only what is listed here may carry a body.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([...JSON_MEDIA_TYPES], { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, decodeJsonBody(typeof body === 'string' ? body : body.toString('utf8')));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
