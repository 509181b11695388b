// POST /api/show: the loaded model's details and capabilities (Ollama-compatible).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { servedModel } from '../../src/inference/served-model.js';
import { OLLAMA_ERROR_RESPONSES } from '../../src/ollama/error-responses.js';
import { show } from '../../src/ollama/model-info.js';
import { OllamaShowRequestSchema } from '../../src/ollama/model-schemas.js';

const ollamaShowRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/show',
    {
      config: { scope: 'inference' },
      schema: {
        tags: ['ollama'],
        summary: 'Show the loaded model (Ollama-compatible)',
        description: 'Any name shows the loaded model, unless `strict_model` is set. `capabilities` lists completion, embedding and tools as the model has them.',
        body: OllamaShowRequestSchema,
        response: { 200: { description: 'The model', content: { 'application/json': { schema: Type.Ref('OllamaShowResponse') } } }, ...OLLAMA_ERROR_RESPONSES },
      },
    },
    async (request) => {
      const engine = app.inferd.gate.readyEngine();
      servedModel(engine, request.body.model ?? request.body.name, app.inferd.config.strict_model);
      return show(engine);
    },
  );
};

export default ollamaShowRoutes;
