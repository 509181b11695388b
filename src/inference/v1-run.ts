// Runs one protocol-v1 request on a leased engine and turns the engine's output into v1 frames.
// POST /infer (NDJSON and SSE) and infer.sock both drive requests through here.
import type { EngineStopReason } from '../engine/engine.js';
import { toInferdError, type InferdError } from '../errors.js';
import type { RequestObserver } from '../metrics/metrics.js';
import { doneFrame, errorFrame, tokenFrame, type DoneFrame, type ErrorFrame, type StopReason, type V1Frame, type V1Request } from '../protocol/v1.js';
import type { Lease } from './gate.js';

export interface V1Outcome {
  /** The one terminal frame: `done`, or `error` when generation failed. */
  frame: DoneFrame | ErrorFrame;
  /** The failure behind an `error` frame, for transports that can still answer with a status. */
  error?: InferdError;
}

/**
 * Streams `token` frames to `emit` (none with `stream:false`) and returns the terminal frame,
 * which the caller writes. Never throws; always releases the lease.
 */
export async function runV1(
  request: V1Request,
  lease: Lease,
  emit: (frame: V1Frame) => void,
  observer?: RequestObserver,
): Promise<V1Outcome> {
  let content = '';
  let first = true;
  try {
    const result = await lease.engine.generate({
      prompt: { kind: 'chat', messages: request.messages },
      maxTokens: request.max_tokens,
      temperature: request.temperature,
      topP: request.top_p,
      topK: request.top_k,
      seed: request.seed,
      constraint: request.grammar ? { kind: 'gbnf', grammar: request.grammar } : undefined,
      signal: lease.signal,
      onText: (text) => {
        if (first) {
          first = false;
          observer?.firstToken();
        }
        observer?.token();
        content += text;
        if (request.stream) emit(tokenFrame(request.id, text));
      },
    });
    const usage = { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens, prompt_tokens_cached: result.promptTokensCached };
    const stopReason = v1StopReason(result.stopReason);
    observer?.finish(stopReason, usage.prompt_tokens, usage.completion_tokens);
    return { frame: doneFrame(request.id, content, usage, stopReason) };
  } catch (err) {
    const error = toInferdError(err);
    observer?.finish(error.wireCode, 0, 0);
    return { frame: errorFrame(request.id, error), error };
  } finally {
    lease.release();
  }
}

export function v1StopReason(reason: EngineStopReason): StopReason {
  return reason === 'stop' ? 'end' : reason;
}
