// A chat completion request, checked and translated for the engine: what to generate, how to
// sample, what the output must look like, and how to answer. Everything that can make a request
// a 400 happens here, before the request takes a slot.
import type { Engine, GenerateRequest } from '../engine/engine.js';
import { V1_DEFAULTS } from '../protocol/v1.js';
import { engineMessages } from './chat-messages.js';
import type { ChatCompletionRequest } from './chat-schemas.js';
import type { Sampling } from './common-schemas.js';
import { resolveResponseFormat, type OutputCheck } from './response-format.js';
import { badRequest } from './request-error.js';
import { servedModel } from './served-model.js';
import { resolveTools } from './tools.js';

/** One generation, minus what the transport supplies (the abort signal and the text callback). */
export type GenerationSpec = Omit<GenerateRequest, 'signal' | 'onText'>;

export interface Plan {
  generations: GenerationSpec[];
  /** Applied to each output that the model ended on its own. */
  check?: OutputCheck | undefined;
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

/** The sampling fields as engine options, with the /infer defaults for unset ones. */
export function resolveSampling(body: Sampling): {
  sample: Pick<GenerationSpec, 'temperature' | 'topP' | 'topK' | 'seed' | 'stop'>;
  stream: { stream: boolean; includeUsage: boolean };
} {
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw badRequest('n must be 1: inferd generates one choice per request', 'n');
  const stop = body.stop === undefined || body.stop === null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  const stream = body.stream === true;
  return {
    sample: {
      temperature: body.temperature ?? V1_DEFAULTS.temperature,
      topP: body.top_p ?? V1_DEFAULTS.top_p,
      topK: body.top_k ?? V1_DEFAULTS.top_k,
      seed: body.seed ?? undefined,
      stop,
    },
    stream: { stream, includeUsage: stream && body.stream_options?.include_usage === true },
  };
}
