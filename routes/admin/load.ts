// GET /admin/load: periodic load snapshots (slots, queue, tokens/s, TTFT) for dashboards, as SSE
// or NDJSON negotiated like /admin/status. A stream of its own: the status frames are untouched.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { createLoadFeed, LOAD_INTERVAL_MS } from '../../src/load/load-source.js';
import { streamFormat } from '../../src/http/negotiate.js';
import { NDJSON_HEADERS, writeStreamHead } from '../../src/http/response-stream.js';
import { ndjsonLine } from '../../src/protocol/ndjson.js';
import { SSE_HEADERS, sseMessage, sseRetry } from '../../src/protocol/sse.js';
import { StreamPump } from '../../src/protocol/stream-pump.js';

const SSE_RETRY_MS = 2000;

const adminLoadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const feed = createLoadFeed(app.inferd);
  app.get(
    '/admin/load',
    {
      config: { scope: 'admin', ticket: true },
      schema: {
        tags: ['admin'],
        summary: 'Follow the load: slots, queue, tokens/s and TTFT, once per second',
        description:
          `One LoadSnapshot at once, then one every ${LOAD_INTERVAL_MS} ms. SSE when the client accepts text/event-stream ` +
          '(`id: <boot>.<n>` + `data: <LoadSnapshot>`), otherwise NDJSON, one LoadSnapshot per line; `?format=sse|ndjson` ' +
          'overrides the Accept header. A reader that falls behind misses snapshots rather than queueing them.',
        querystring: Type.Object({
          format: Type.Optional(Type.Enum(['sse', 'ndjson'])),
          ticket: Type.Optional(Type.String({ maxLength: 128, description: 'A single-use ticket from POST /admin/stream-ticket, instead of an API key' })),
        }),
        response: {
          200: {
            description: 'The stream',
            content: {
              'application/x-ndjson': { schema: Type.Ref('LoadSnapshot') },
              'text/event-stream': { schema: Type.String({ description: '`id: <boot>.<n>` and `data: <LoadSnapshot JSON>` events' }) },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const format = streamFormat(request.headers.accept, request.query.format);
      const boot = app.inferd.lifecycle.bus.bootId;
      writeStreamHead(reply, format === 'sse' ? SSE_HEADERS : NDJSON_HEADERS);
      const pump = new StreamPump(reply.raw, { writeTimeoutMs: app.inferd.config.write_timeout_ms });
      const untrack = app.streams.track(pump);
      if (format === 'sse') void pump.write(sseRetry(SSE_RETRY_MS)).catch(() => {});
      let n = 0;
      const unsubscribe = feed.subscribe((json) => {
        // A snapshot replaces the previous one, so a reader still busy with the last one
        // just skips this one; the pump's write timeout cuts off a reader that never drains.
        if (pump.gone || pump.blocked) return;
        n += 1;
        void pump.write(format === 'sse' ? sseMessage(json, `${boot}.${n}`) : ndjsonLine(json)).catch(() => {});
      });
      await new Promise<void>((resolve) => {
        if (pump.gone) return resolve();
        pump.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      unsubscribe();
      untrack();
    },
  );
};

export default adminLoadRoutes;
