// POST /v1/completions: OpenAI (legacy) text completions on the raw prompt, no chat template.
// A prompt array gives one choice per prompt; they are generated one after another on the one
// slot the request holds, so each choice is an honest, independent generation.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { clientSignal } from '../../src/http/client-signal.js';
import { planCompletion } from '../../src/openai/completion-plan.js';
import { CompletionChunks, completion } from '../../src/openai/completion-response.js';
import { CompletionRequestSchema } from '../../src/openai/completion-schemas.js';
import { OPENAI_ERROR_RESPONSES } from '../../src/openai/error-responses.js';
import { OpenAiEventStream } from '../../src/openai/event-stream.js';
import { nowSeconds, openAiId } from '../../src/openai/ids.js';
import { runGenerations } from '../../src/inference/run-generations.js';
import { modelId } from '../../src/inference/served-model.js';

const completionsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/v1/completions',
    {
      config: { scope: 'inference' },
      schema: {
        tags: ['openai'],
        summary: 'Create a text completion (OpenAI-compatible, legacy)',
        description: 'With `stream: true` the answer is SSE: `data: <CompletionChunk>` events, then `data: [DONE]`.',
        body: CompletionRequestSchema,
        response: {
          200: {
            description: 'The completion',
            content: {
              'application/json': { schema: Type.Ref('Completion') },
              'text/event-stream': { schema: Type.String({ description: '`data: <CompletionChunk JSON>` events, then `data: [DONE]`' }) },
            },
          },
          ...OPENAI_ERROR_RESPONSES,
        },
      },
    },
    async (request, reply) => {
      const { gate, config, metrics } = app.inferd;
      const plan = planCompletion(request.body, gate.readyEngine(), config.strict_model);
      const lease = await gate.lease(clientSignal(reply));
      const base = { id: openAiId('cmpl-'), created: nowSeconds(), model: modelId(lease.engine) };
      const events = plan.stream ? new OpenAiEventStream(app, reply, config.write_timeout_ms) : null;
      const chunks = events ? new CompletionChunks(events, base, plan.includeUsage, plan.echo) : null;
      const hooks = {
        text: (index: number, text: string) => chunks?.text(index, text),
        finished: chunks ? chunks.finished.bind(chunks) : undefined,
      };
      const result = await runGenerations(lease, plan, hooks, metrics.observer('completions'));
      if (result.error) {
        if (!events?.started) throw result.error;
        await events.fail(result.error);
        return reply;
      }
      if (!chunks) return completion(base, result, plan.echo);
      await chunks.end(result.usage);
      return reply;
    },
  );
};

export default completionsRoutes;
