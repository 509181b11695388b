// GET /metrics in the Prometheus text exposition format.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

const metricsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/metrics',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics',
        response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: Type.String() } } } },
      },
    },
    async (_request, reply) => {
      reply.type(app.inferd.metrics.contentType);
      return app.inferd.metrics.render();
    },
  );
};

export default metricsRoutes;
