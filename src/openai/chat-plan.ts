// A chat completion request, checked and translated for the engine: what to generate, how to
// sample, what the output must look like, and how to answer. Everything that can make a request
// a 400 happens here, before the request takes a slot.
import type { Engine } from '../engine/engine.js';
import { badRequest } from '../inference/request-error.js';
import type { GenerationSpec, RunPlan } from '../inference/run-generations.js';
import { engineSampling, type EngineSampling } from '../inference/sampling.js';
import { servedModel } from '../inference/served-model.js';
import { engineMessages } from './chat-messages.js';
import type { ChatCompletionRequest } from './chat-schemas.js';
import type { Sampling } from './common-schemas.js';
import { resolveResponseFormat } from './response-format.js';
import { resolveTools } from './tools.js';

export interface Plan extends RunPlan {
  stream: boolean;
  includeUsage: boolean;
}

export function planChat(body: ChatCompletionRequest, engine: Engine, strictModel: boolean): Plan {
  servedModel(engine, body.model, strictModel);
  if (body.logprobs === true) throw badRequest('logprobs are not supported', 'logprobs');
  if ((body.top_logprobs ?? 0) > 0) throw badRequest('top_logprobs are not supported', 'top_logprobs');
  const sampling = resolveSampling(body);
  const tools = resolveTools(body, engine);
  const messages = engineMessages(body.messages, { tools: engine.capabilities.tools, chatTemplate: engine.info.chatTemplate });
  const format = resolveResponseFormat(body.response_format);
  const generation: GenerationSpec = {
    prompt: { kind: 'chat', messages },
    // No limit asked for: up to the end of the context, as OpenAI does.
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? engine.info.nCtx,
    ...sampling.sample,
    constraint: format.constraint,
    tools,
  };
  return { generations: [generation], check: format.check, ...sampling.stream };
}

/** The sampling fields as engine options (shared translation), and how to answer. */
export function resolveSampling(body: Sampling): { sample: EngineSampling; stream: { stream: boolean; includeUsage: boolean } } {
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw badRequest('n must be 1: inferd generates one choice per request', 'n');
  const stream = body.stream === true;
  return { sample: engineSampling(body), stream: { stream, includeUsage: stream && body.stream_options?.include_usage === true } };
}
