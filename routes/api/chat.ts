// POST /api/chat: Ollama chat, as NDJSON lines (default) or one object with `stream: false`.
// Same gate as every inference route: readiness, admission (slots, queue, 429), cancellation
// when the client goes away, and metrics.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ollamaToolCalls } from '../../src/ollama/answer.js';
import { OllamaChatRequestSchema } from '../../src/ollama/chat-schemas.js';
import { OLLAMA_ERROR_RESPONSES } from '../../src/ollama/error-responses.js';
import { answerGeneration } from '../../src/ollama/generation-route.js';
import { planOllamaChat } from '../../src/ollama/plan.js';

const ollamaChatRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/api/chat',
    {
      config: { scope: 'inference' },
      schema: {
        tags: ['ollama'],
        summary: 'Chat (Ollama-compatible)',
        description:
          'NDJSON by default: one OllamaChatResponse per piece of text, the last with `done: true`, `done_reason` and the ' +
          'counts and durations (ns). `format` ("json" or a JSON schema) constrains the output with a grammar; `tools` work as on /v1 ' +
          '(a 400 when the model\'s chat template has no function-calling format). `keep_alive` is accepted and ignored.',
        body: OllamaChatRequestSchema,
        response: {
          200: {
            description: 'The answer',
            content: {
              'application/json': { schema: Type.Ref('OllamaChatResponse') },
              'application/x-ndjson': { schema: Type.String({ description: 'OllamaChatResponse lines; the last has done:true' }) },
            },
          },
          ...OLLAMA_ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const plan = planOllamaChat(request.body, app.inferd.gate.readyEngine(), app.inferd.config.strict_model);
      const message = (content: string, calls: Parameters<typeof ollamaToolCalls>[0]) => ({
        message: { role: 'assistant', content, ...(calls.length > 0 ? { tool_calls: ollamaToolCalls(calls) } : {}) },
      });
      return answerGeneration(app, reply, plan, message, 'ollama_chat');
    },
  );
};

export default ollamaChatRoutes;
