// POST /api/generate: Ollama completion of one prompt (through the chat template, or `raw`), as
// NDJSON lines (default) or one object with `stream: false`. Same gate as every inference route.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { OllamaGenerateRequestSchema } from '../../src/ollama/chat-schemas.js';
import { OLLAMA_ERROR_RESPONSES } from '../../src/ollama/error-responses.js';
import { answerGeneration } from '../../src/ollama/generation-route.js';
import { planOllamaGenerate } from '../../src/ollama/plan.js';

const ollamaGenerateRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/generate',
    {
      config: { scope: 'inference' },
      schema: {
        tags: ['ollama'],
        summary: 'Generate a completion (Ollama-compatible)',
        description:
          'NDJSON by default: one OllamaGenerateResponse per piece of text, the last with `done: true`, `done_reason` and the ' +
          'counts and durations (ns). An empty prompt answers at once with done_reason `load`. `context` is not returned.',
        body: OllamaGenerateRequestSchema,
        response: {
          200: {
            description: 'The answer',
            content: {
              'application/json': { schema: Type.Ref('OllamaGenerateResponse') },
              'application/x-ndjson': { schema: Type.String({ description: 'OllamaGenerateResponse lines; the last has done:true' }) },
            },
          },
          ...OLLAMA_ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const plan = planOllamaGenerate(request.body, app.inferd.gate.readyEngine(), app.inferd.config.strict_model);
      return answerGeneration(app, reply, plan, (response) => ({ response }), 'ollama_generate');
    },
  );
};

export default ollamaGenerateRoutes;
