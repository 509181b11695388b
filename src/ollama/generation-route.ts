// What POST /api/chat and POST /api/generate share once planned: the slot, the run through the
// shared generation runner, and the answer as NDJSON lines or one object. Only the shape of a
// line differs (a chat message or a `response` string), which each route supplies.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ToolCall } from '../engine/engine.js';
import { clientSignal } from '../http/client-signal.js';
import { runGenerations } from '../inference/run-generations.js';
import { modelId } from '../inference/served-model.js';
import { AnswerClock, createdAt, finalOutcome, NdjsonAnswer } from './answer.js';
import type { OllamaDoneFields } from './common-schemas.js';
import type { OllamaPlan } from './plan.js';

/** The family-specific part of a line: a piece of text, or the whole answer at the end. */
export type LineBody = (text: string, toolCalls: readonly ToolCall[]) => object;

export async function answerGeneration(
  app: FastifyInstance,
  reply: FastifyReply,
  plan: OllamaPlan,
  body: LineBody,
  route: 'ollama_chat' | 'ollama_generate',
): Promise<object | FastifyReply> {
  const { gate, config, metrics } = app.inferd;
  const clock = new AnswerClock();
  const model = modelId(gate.readyEngine());
  const line = (content: object, done: boolean, fields: OllamaDoneFields = {}) => ({ model, created_at: createdAt(), ...content, done, ...fields });
  // Nothing to generate: Ollama's way to load a model. Ours is always loaded.
  if (plan.loadOnly) return line(body('', []), true, { done_reason: 'load' });

  const lease = await gate.lease(clientSignal(reply));
  clock.generationStarted();
  const ndjson = plan.stream ? new NdjsonAnswer(app, reply, config.write_timeout_ms) : null;
  const result = await runGenerations(
    lease,
    plan,
    {
      text: (_index, text) => {
        clock.text();
        ndjson?.line(line(body(text, []), false));
      },
    },
    metrics.observer(route),
  );
  if (result.error) {
    if (!ndjson?.started) throw result.error;
    await ndjson.fail(result.error);
    return reply;
  }
  const outcome = finalOutcome(result);
  const done = clock.done(outcome.reason, result.usage.prompt_tokens, result.usage.completion_tokens);
  // Streamed, the text went out piece by piece; the last line carries the tool calls and counts.
  if (!ndjson) return line(body(outcome.text, outcome.toolCalls), true, done);
  await ndjson.end(line(body('', outcome.toolCalls), true, done));
  return reply;
}
