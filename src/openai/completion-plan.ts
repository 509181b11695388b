// A text completion request, checked and translated for the engine: one generation per prompt,
// on the raw text (no chat template), with OpenAI's default of 16 tokens.
import type { Engine } from '../engine/engine.js';
import { resolveSampling, type Plan } from './chat-plan.js';
import { COMPLETION_DEFAULT_MAX_TOKENS, type CompletionRequest } from './completion-schemas.js';
import { badRequest } from '../inference/request-error.js';
import { servedModel } from '../inference/served-model.js';

export interface CompletionPlan extends Plan {
  /** Prompts put back in front of their completions (`echo`). */
  echo: string[] | null;
}

export function planCompletion(body: CompletionRequest, engine: Engine, strictModel: boolean): CompletionPlan {
  servedModel(engine, body.model, strictModel);
  if (body.best_of !== undefined && body.best_of !== null && body.best_of !== 1) throw badRequest('best_of must be 1', 'best_of');
  if ((body.logprobs ?? 0) > 0) throw badRequest('logprobs are not supported', 'logprobs');
  if (body.suffix) throw badRequest('suffix is not supported (no fill-in-the-middle)', 'suffix');
  const sampling = resolveSampling(body);
  const prompts = typeof body.prompt === 'string' ? [body.prompt] : body.prompt;
  const maxTokens = body.max_tokens ?? COMPLETION_DEFAULT_MAX_TOKENS;
  return {
    generations: prompts.map((text) => ({ prompt: { kind: 'text', text }, maxTokens, ...sampling.sample })),
    echo: body.echo === true ? prompts : null,
    ...sampling.stream,
  };
}
