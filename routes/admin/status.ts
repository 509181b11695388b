// GET /admin/status: the lifecycle stream. SSE for EventSource clients (with ids, retry,
// Last-Event-ID replay and a heartbeat), chunked NDJSON for everyone else; the JSON of each
// frame is byte-identical in both, and in admin.sock.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { streamFormat } from '../../src/http/negotiate.js';
import { NDJSON_HEADERS, writeStreamHead } from '../../src/http/response-stream.js';
import { SSE_HEADERS } from '../../src/protocol/sse.js';
import { pumpStatus, statusOutcome } from '../../src/protocol/status-pump.js';
import { StreamPump } from '../../src/protocol/stream-pump.js';
import { requestLogOf } from '../../src/http/request-log.js';
import { noteCut } from '../../src/log/request-log.js';

/** Browsers wait this long before reconnecting a dropped EventSource. */
const SSE_RETRY_MS = 2000;

const adminStatusRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/admin/status',
    {
      config: { scope: 'admin', ticket: true },
      schema: {
        tags: ['admin'],
        summary: 'Follow the lifecycle: capabilities, then the current state, then every change',
        description:
          'SSE when the client accepts text/event-stream (each event `id: <n>` + `data: <StatusFrame>`; ' +
          '`Last-Event-ID` replays missed events; `: ping` heartbeats), otherwise NDJSON, one StatusFrame per line. ' +
          '`?format=sse|ndjson` overrides the Accept header; `?last_event_id=` stands in for the header. A client that falls 256 frames behind is disconnected.',
        querystring: Type.Object({
          format: Type.Optional(Type.Enum(['sse', 'ndjson'])),
          ticket: Type.Optional(Type.String({ maxLength: 128, description: 'A single-use ticket from POST /admin/stream-ticket, instead of an API key' })),
          last_event_id: Type.Optional(
            Type.String({ maxLength: 64, description: 'Same as the Last-Event-ID header, for a new EventSource (which cannot set it)' }),
          ),
        }),
        headers: Type.Object({
          'last-event-id': Type.Optional(Type.String({ maxLength: 64, description: '`<boot>.<n>` as sent in the SSE `id:` field' })),
        }),
        response: {
          200: {
            description: 'The stream',
            content: {
              'application/x-ndjson': { schema: Type.Ref('StatusFrame') },
              'text/event-stream': { schema: Type.String({ description: '`id: <n>` and `data: <StatusFrame JSON>` events' }) },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { lifecycle, config } = app.inferd;
      const format = streamFormat(request.headers.accept, request.query.format);
      const lastEventId = eventNumber(request.headers['last-event-id'] ?? request.query.last_event_id, lifecycle.bus.bootId);
      const subscription = lifecycle.bus.subscribe(lastEventId === undefined ? {} : { lastEventId });
      writeStreamHead(reply, format === 'sse' ? SSE_HEADERS : NDJSON_HEADERS);
      const pump = new StreamPump(reply.raw, { writeTimeoutMs: config.write_timeout_ms });
      // Server closing: write what is queued (`draining` among it), then end with the terminator.
      const stop = new AbortController();
      const untrack = app.streams.track(pump, () => stop.abort());
      const record = requestLogOf(request);
      try {
        const end = await pumpStatus(subscription, pump, {
          format,
          heartbeatMs: config.sse_heartbeat_ms,
          retryMs: SSE_RETRY_MS,
          eventIdPrefix: lifecycle.bus.bootId,
          stop: stop.signal,
        });
        noteCut(record, statusOutcome(end, pump, stop.signal));
      } finally {
        untrack();
      }
    },
  );
};

/** The event number of a Last-Event-ID from this boot; anything else gets the current state. */
function eventNumber(header: string | undefined, bootId: string): number | undefined {
  const match = header === undefined ? null : /^([0-9a-f]+)\.(\d{1,15})$/.exec(header);
  return match && match[1] === bootId ? Number(match[2]) : undefined;
}

export default adminStatusRoutes;
