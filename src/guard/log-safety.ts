// Keys and tickets never reach the log. Headers are redacted by pino; the request URL (which
// Fastify logs with every request) loses the value of its `ticket` parameter.
import type { FastifyRequest } from 'fastify';
import type { LoggerOptions } from 'pino';

/** `?ticket=abc&format=sse` → `?ticket=[redacted]&format=sse`. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]ticket=)[^&#]*/gi, '$1[redacted]');
}

/** Options to merge into every pino logger the daemon's HTTP app logs through. */
export const safeLoggerOptions = {
  redact: {
    paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'headers.authorization', 'headers["x-api-key"]'],
    censor: '[redacted]',
  },
  serializers: {
    req(request: FastifyRequest) {
      return {
        method: request.method,
        url: redactUrl(request.url),
        host: request.host,
        // The client address: with trust_proxy, the one the trusted proxies forwarded.
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      };
    },
  },
} satisfies LoggerOptions;
