// GET /api/ps: the running model (Ollama-compatible). inferd runs exactly one.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { OLLAMA_ERROR_RESPONSES } from '../../src/ollama/error-responses.js';
import { running } from '../../src/ollama/model-info.js';
import { ModelStore } from '../../src/store/index.js';

const ollamaPsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/ps',
    {
      config: { scope: 'inference' },
      schema: {
        tags: ['ollama'],
        summary: 'The loaded model (Ollama-compatible)',
        description: '`expires_at` is far in the future: the model stays loaded while the daemon runs, whatever `keep_alive` said. 503 while loading.',
        response: { 200: { description: 'The loaded model', content: { 'application/json': { schema: Type.Ref('OllamaPs') } } }, ...OLLAMA_ERROR_RESPONSES },
      },
    },
    async () => {
      const engine = app.inferd.gate.readyEngine();
      const store = await ModelStore.open(app.inferd.config.models_home);
      return { models: [await running(engine, store)] };
    },
  );
};

export default ollamaPsRoutes;
