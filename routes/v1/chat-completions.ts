// POST /v1/chat/completions: OpenAI chat completions, as one JSON object or as SSE chunks.
// The request takes a slot through the same gate as POST /infer (readiness, admission,
// cancellation on disconnect, metrics); errors before the first chunk are HTTP statuses.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { planChat } from '../../src/openai/chat-plan.js';
import { ChatChunks, chatCompletion } from '../../src/openai/chat-response.js';
import { ChatCompletionRequestSchema } from '../../src/openai/chat-schemas.js';
import { clientSignal } from '../../src/http/client-signal.js';
import { OPENAI_ERROR_RESPONSES } from '../../src/openai/error-responses.js';
import { OpenAiEventStream } from '../../src/openai/event-stream.js';
import { nowSeconds, openAiId } from '../../src/openai/ids.js';
import { runGenerations } from '../../src/inference/run-generations.js';
import { modelId } from '../../src/inference/served-model.js';

const chatCompletionsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/chat/completions',
    {
      config: { scope: 'inference' },
      schema: {
        tags: ['openai'],
        summary: 'Create a chat completion (OpenAI-compatible)',
        description:
          'With `stream: true` the answer is SSE: `data: <ChatCompletionChunk>` events, then `data: [DONE]`. ' +
          '`response_format` json_object / json_schema constrain the output with a grammar. `tools` need a model whose ' +
          'chat template has a function-calling format (capabilities `tools`); otherwise they are a 400.',
        body: ChatCompletionRequestSchema,
        response: {
          200: {
            description: 'The completion',
            content: {
              'application/json': { schema: Type.Ref('ChatCompletion') },
              'text/event-stream': { schema: Type.String({ description: '`data: <ChatCompletionChunk JSON>` events, then `data: [DONE]`' }) },
            },
          },
          ...OPENAI_ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const { gate, config, metrics } = app.inferd;
      const plan = planChat(request.body, gate.readyEngine(), config.strict_model);
      const lease = await gate.lease(clientSignal(reply));
      const base = { id: openAiId('chatcmpl-'), created: nowSeconds(), model: modelId(lease.engine) };
      const events = plan.stream ? new OpenAiEventStream(app, reply, config.write_timeout_ms) : null;
      const chunks = events ? new ChatChunks(events, base, plan.includeUsage) : null;
      const result = await runGenerations(lease, plan, { text: (_index, text) => chunks?.text(text) }, metrics.observer('chat_completions'));
      if (result.error) {
        if (!events?.started) throw result.error;
        await events.fail(result.error);
        return reply;
      }
      if (!chunks) return chatCompletion(base, result);
      await chunks.end(result);
      return reply;
    },
  );
};

export default chatCompletionsRoutes;
