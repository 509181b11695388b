// POST /infer: a protocol-v1 request in, v1 frames out, as NDJSON or SSE (by Accept), or one
// JSON `done` frame for `stream:false`. Errors before the first frame are HTTP errors; after
// it they are an `error` frame. Every request ends with exactly one terminal frame.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { clientSignal } from '../src/http/client-signal.js';
import { streamFormat } from '../src/http/negotiate.js';
import { startStream } from '../src/http/response-stream.js';
import { runV1 } from '../src/inference/v1-run.js';
import { V1RequestSchema, resolveV1Request, type V1Frame } from '../src/protocol/v1.js';

const inferRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/infer',
    {
      config: { scope: 'inference' },
      schema: {
        tags: ['inference'],
        summary: 'Generate a reply to a conversation',
        description:
          'Streams `token` frames then one `done` frame, as NDJSON (`application/x-ndjson`, one frame per line) ' +
          'or as SSE (`data: <frame>` events) when the client sends `Accept: text/event-stream`. ' +
          'With `stream:false` the answer is a single JSON `done` frame.',
        body: V1RequestSchema,
        response: {
          200: {
            description: 'The frames',
            content: {
              'application/x-ndjson': { schema: Type.Ref('V1Frame') },
              'text/event-stream': { schema: Type.String({ description: '`data: <V1Frame JSON>` events' }) },
              'application/json': { schema: Type.Ref('DoneFrame') },
            },
          },
          '4xx': { description: 'invalid_request, frame_too_large or queue_full', content: { 'application/json': { schema: Type.Ref('ErrorFrame') } } },
          '5xx': { description: 'backend_unavailable or internal', content: { 'application/json': { schema: Type.Ref('ErrorFrame') } } },
        },
      },
    },
    async (request, reply) => {
      const body = resolveV1Request(request.body);
      const { gate, config, metrics } = app.inferd;
      const lease = await gate.lease(clientSignal(reply));
      const format = streamFormat(request.headers.accept);
      const stream = body.stream ? startStream(app, reply, format, config.write_timeout_ms) : null;
      // Stream headers go out with the first frame, so an error before any token (a bad
      // grammar, a prompt longer than the context) can still be an HTTP status.
      const emit = (frame: V1Frame) => stream?.frame(JSON.stringify(frame));
      const outcome = await runV1(body, lease, emit, metrics.observer('infer'));
      if (outcome.error && !stream?.started) throw outcome.error;
      if (!stream) return outcome.frame;
      await stream.finish(JSON.stringify(outcome.frame));
      return reply;
    },
  );
};

export default inferRoutes;
