// GET /openapi.yaml: the committed spec, generated from the route schemas (npm run openapi).
import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { OPENAPI_PATH } from '../src/http/openapi.js';

const openapiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/openapi.yaml',
    {
      schema: {
        tags: ['health'],
        summary: 'This OpenAPI document',
        response: { 200: { description: 'OpenAPI 3.1 YAML', content: { 'application/yaml': { schema: Type.String() } } } },
      },
    },
    async (_request, reply) => {
      reply.type('application/yaml; charset=utf-8');
      return readFile(OPENAPI_PATH, 'utf8');
    },
  );
};

export default openapiRoutes;
