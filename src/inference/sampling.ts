// Sampling options of any API family as engine options. Unset fields take the /infer defaults,
// so the same request means the same sampling on /infer, /v1 and /api.
import type { GenerateRequest } from '../engine/engine.js';
import { V1_DEFAULTS } from '../protocol/v1.js';

/** The sampling fields every family has, under their common (OpenAI / Ollama) names. */
export interface SamplingInput {
  temperature?: number | null | undefined;
  top_p?: number | null | undefined;
  top_k?: number | null | undefined;
  seed?: number | null | undefined;
  stop?: string | readonly string[] | null | undefined;
}

export type EngineSampling = Pick<GenerateRequest, 'temperature' | 'topP' | 'topK' | 'seed' | 'stop'>;

export function engineSampling(input: SamplingInput): EngineSampling {
  const stop = input.stop === undefined || input.stop === null ? [] : typeof input.stop === 'string' ? [input.stop] : [...input.stop];
  return {
    temperature: input.temperature ?? V1_DEFAULTS.temperature,
    topP: input.top_p ?? V1_DEFAULTS.top_p,
    topK: input.top_k ?? V1_DEFAULTS.top_k,
    seed: input.seed ?? undefined,
    stop,
  };
}
