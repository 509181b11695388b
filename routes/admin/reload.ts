// POST /admin/reload: reload the model (optionally another file) without restarting the daemon.
// The answer comes when the reload is over; progress is on /admin/status meanwhile.
import { resolve } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { InferdError } from '../../src/errors.js';

const ReloadBodySchema = Type.Object(
  { path: Type.Optional(Type.String({ minLength: 1, description: 'A GGUF file to serve instead of the current model' })) },
  { additionalProperties: false },
);

const adminReloadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/admin/reload',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Reload the model; in-flight requests finish first (up to drain_timeout_ms)',
        body: ReloadBodySchema,
        response: {
          200: Type.Object({ status: Type.Literal('ready'), path: Type.String() }),
          404: {
            description: '`model_not_found`: the file does not exist. Nothing happened: no `restarting` frame, the model keeps serving',
            content: { 'application/json': { schema: Type.Ref('ErrorFrame') } },
          },
          409: { description: 'Not ready (loading, reloading or draining)', content: { 'application/json': { schema: Type.Ref('ErrorFrame') } } },
          422: {
            description: '`model_invalid`: not a regular, readable, well-formed GGUF file. Nothing happened, as for 404',
            content: { 'application/json': { schema: Type.Ref('ErrorFrame') } },
          },
          500: { description: 'The new model failed to load; the previous one serves again', content: { 'application/json': { schema: Type.Ref('ErrorFrame') } } },
        },
      },
      // `curl -X POST .../admin/reload` sends no body at all: treat that as `{}`.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) => {
      const path = request.body.path;
      const outcome = await app.inferd.lifecycle.reload(path === undefined ? undefined : { path: resolve(path) });
      if (!outcome.ok) {
        throw new InferdError('reload_failed', `reload failed: ${outcome.message ?? 'unknown error'}; still serving ${outcome.path}`);
      }
      return { status: 'ready' as const, path: outcome.path };
    },
  );
};

export default adminReloadRoutes;
