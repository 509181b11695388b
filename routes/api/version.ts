// GET /api/version (Ollama-compatible): the inferd version.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { inferdVersion } from '../../src/ollama/version.js';

const ollamaVersionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/version',
    {
      config: { scope: 'inference' },
      schema: {
        tags: ['ollama'],
        summary: 'The server version (Ollama-compatible): inferd\'s own',
        response: { 200: { description: 'The version', content: { 'application/json': { schema: Type.Ref('OllamaVersion') } } } },
      },
    },
    async () => ({ version: inferdVersion() }),
  );
};

export default ollamaVersionRoutes;
