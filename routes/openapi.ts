// GET /openapi.yaml: the committed spec, generated from the route schemas (npm run openapi).
// Public: it describes the API, it holds no data.
import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { OPENAPI_PATH } from '../src/http/openapi.js';

const openapiRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/openapi.yaml',
    {
      config: { scope: 'public' },
      schema: {
        tags: ['health'],
        summary: 'This OpenAPI document',
        response: { 200: { description: 'OpenAPI 3.1 YAML', content: { 'application/yaml': { schema: Type.String() } } } },
      },
    },
    async (request, reply) => {
      reply.type('application/yaml; charset=utf-8');
      const spec = await readFile(OPENAPI_PATH, 'utf8');
      // Under a path prefix (base_path, X-Forwarded-Prefix) the paths live below it. The prefix
      // is a plain path (src/guard/base-path.ts), so as a JSON string it is valid YAML.
      if (request.basePath === '') return spec;
      return `${spec.trimEnd()}\nservers:\n  - url: ${JSON.stringify(request.basePath)}\n`;
    },
  );
};

export default openapiRoutes;
