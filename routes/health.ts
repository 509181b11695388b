// Liveness and readiness, for curl, load balancers and service managers.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      config: { scope: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Liveness: 200 while the process serves HTTP',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { scope: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Readiness: 200 once the model is loaded, else 503 with the current status frame',
        response: {
          200: { description: 'Ready', content: { 'application/json': { schema: Type.Ref('StatusFrame') } } },
          503: { description: 'Not ready (Retry-After while loading)', content: { 'application/json': { schema: Type.Ref('StatusFrame') } } },
        },
      },
    },
    async (_request, reply) => {
      const { lifecycle } = app.inferd;
      const state = lifecycle.current();
      reply.type('application/json; charset=utf-8');
      if (state instanceof Error) {
        if (state.retryAfter !== undefined) reply.header('retry-after', String(state.retryAfter));
        reply.code(503);
      }
      // The snapshot's frame is already rendered JSON: a string with a JSON type goes out as is.
      return reply.send(lifecycle.bus.snapshot.frame);
    },
  );
};

export default healthRoutes;
