// Runs a plan's generations on a leased engine, one after another, and turns engine results
// into OpenAI outcomes (finish reasons, tool calls, usage). Shared by chat and text completions;
// the caller decides how outcomes reach the wire. Never throws; always releases the lease.
import type { ToolCall } from '../engine/engine.js';
import { InferdError, toInferdError } from '../errors.js';
import type { Lease } from '../inference/gate.js';
import type { RequestObserver } from '../metrics/metrics.js';
import type { Plan } from './chat-plan.js';
import type { FinishReason } from './chat-schemas.js';
import type { OpenAIUsage } from './common-schemas.js';

export interface GenerationOutcome {
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
}

export interface RunResult {
  outcomes: GenerationOutcome[];
  usage: OpenAIUsage;
  /** Why the run stopped early: a failure, or a cancellation (client gone, daemon draining). */
  error?: InferdError | undefined;
}

export interface RunHooks {
  /** A piece of text of generation `index`, as it is generated. */
  text(index: number, text: string): void;
  /** Generation `index` is complete. */
  finished?(index: number, outcome: GenerationOutcome): void;
}

export async function runGenerations(lease: Lease, plan: Plan, hooks: RunHooks, observer: RequestObserver): Promise<RunResult> {
  const outcomes: GenerationOutcome[] = [];
  const usage: OpenAIUsage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } };
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
