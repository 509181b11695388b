// Runs a plan's generations on a leased engine, one after another, and turns engine results
// into outcomes (finish reasons, tool calls, usage). Shared by every API family (/v1 chat and
// text completions, /api chat and generate); the caller decides how outcomes reach the wire.
// Never throws; always releases the lease.
import type { GenerateRequest, ToolCall } from '../engine/engine.js';
import { InferdError, toInferdError } from '../errors.js';
import type { RequestObserver } from '../metrics/metrics.js';
import type { OpenAIUsage } from '../openai/common-schemas.js';
import type { Lease } from './gate.js';
import type { OutputCheck } from './output-format.js';

/** One generation, minus what the transport supplies (the abort signal and the text callback). */
export type GenerationSpec = Omit<GenerateRequest, 'signal' | 'onText'>;

/** What a family's plan hands to the runner. */
export interface RunPlan {
  generations: GenerationSpec[];
  /** Applied to each output that the model ended on its own. */
  check?: OutputCheck | undefined;
}

/** Why a generation ended: the OpenAI names, which each family maps to its own. */
export type FinishReason = 'stop' | 'length' | 'tool_calls';

/** Token counts, OpenAI-named: the /v1 usage object is exactly this. */
export type Usage = OpenAIUsage;

export interface GenerationOutcome {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
}

export interface RunResult {
  outcomes: GenerationOutcome[];
  usage: Usage;
  /** Why the run stopped early: a failure, or a cancellation (client gone, daemon draining). */
  error?: InferdError | undefined;
}

export interface RunHooks {
  /** A piece of text of generation `index`, as it is generated. */
  text(index: number, text: string): void;
  /** Generation `index` is complete. */
  finished?(index: number, outcome: GenerationOutcome): void;
}

export async function runGenerations(lease: Lease, plan: RunPlan, hooks: RunHooks, observer: RequestObserver): Promise<RunResult> {
  const outcomes: GenerationOutcome[] = [];
  const usage: Usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } };
  let first = true;
  try {
    for (const [index, spec] of plan.generations.entries()) {
      const result = await lease.engine.generate({
        ...spec,
        signal: lease.signal,
        onText: (text) => {
          if (text === '') return;
          if (first) {
            first = false;
            observer.firstToken();
          }
          observer.token();
          hooks.text(index, text);
        },
      });
      usage.prompt_tokens += result.promptTokens;
      usage.completion_tokens += result.completionTokens;
      usage.prompt_tokens_details = { cached_tokens: (usage.prompt_tokens_details?.cached_tokens ?? 0) + result.promptTokensCached };
      usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
      if (result.stopReason === 'cancelled') throw cancellation(lease.signal);
      const toolCalls = result.toolCalls ?? [];
      // Only a model that finished on its own owes us format-valid output: `length` truncates
      // it and a stop sequence cuts it where the client asked.
      if (result.stopReason === 'end' && toolCalls.length === 0) plan.check?.(result.text);
      const finishReason: FinishReason = toolCalls.length > 0 ? 'tool_calls' : result.stopReason === 'length' ? 'length' : 'stop';
      const outcome = { text: result.text, toolCalls, finishReason };
      outcomes.push(outcome);
      hooks.finished?.(index, outcome);
    }
    observer.finish(outcomes.at(-1)?.finishReason ?? 'stop', usage.prompt_tokens, usage.completion_tokens);
    return { outcomes, usage };
  } catch (err) {
    const error = toInferdError(err);
    observer.finish(lease.signal.aborted ? 'cancelled' : error.wireCode, usage.prompt_tokens, usage.completion_tokens);
    return { outcomes, usage, error };
  } finally {
    lease.release();
  }
}

function cancellation(signal: AbortSignal): InferdError {
  const reason: unknown = signal.reason;
  return reason instanceof InferdError ? reason : new InferdError('backend_unavailable', 'the generation was cancelled');
}
