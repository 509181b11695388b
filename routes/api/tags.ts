// GET /api/tags: the local models (Ollama-compatible): the loaded one, then the store's entries.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { InferdError } from '../../src/errors.js';
import { OLLAMA_ERROR_RESPONSES } from '../../src/ollama/error-responses.js';
import { tags } from '../../src/ollama/model-info.js';
import { ModelStore } from '../../src/store/index.js';

const ollamaTagsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/api/tags',
    {
      config: { scope: 'inference' },
      schema: {
        tags: ['ollama'],
        summary: 'List local models (Ollama-compatible)',
        description: 'The loaded model first (named as /v1/models names it, even when it is not in the store), then every other entry of the model store.',
        response: { 200: { description: 'The models', content: { 'application/json': { schema: Type.Ref('OllamaTags') } } }, ...OLLAMA_ERROR_RESPONSES },
      },
    },
    async () => {
      let engine = null;
      try {
        engine = app.inferd.gate.readyEngine();
      } catch (err) {
        // While loading, the store's entries are still worth listing.
        if (!(err instanceof InferdError)) throw err;
      }
      const store = await ModelStore.open(app.inferd.config.models_home);
      return { models: await tags(engine, store) };
    },
  );
};

export default ollamaTagsRoutes;
