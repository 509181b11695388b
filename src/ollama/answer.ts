// The answers of POST /api/chat and /api/generate: NDJSON lines (one per piece of text, then a
// last one with done:true, the reason and the counts) or, with stream:false, one object. A
// failure after the first line ends the stream with an {"error": …} line, which the official
// clients raise as an error. Durations are nanoseconds, as Ollama reports them.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ToolCall } from '../engine/engine.js';
import type { InferdError } from '../errors.js';
import { ollamaErrorBody } from '../http/error-handler.js';
import { startStream, type ResponseStream } from '../http/response-stream.js';
import type { FinishReason, RunResult } from '../inference/run-generations.js';
import type { OllamaToolCall } from './chat-schemas.js';
import type { OllamaDoneFields } from './common-schemas.js';

/** Measures one answer: request received, generation started (slot taken), first text, end. */
export class AnswerClock {
  readonly #received = process.hrtime.bigint();
  #started: bigint | null = null;
  #first: bigint | null = null;

  generationStarted(): void {
    this.#started ??= process.hrtime.bigint();
  }

  text(): void {
    this.#first ??= process.hrtime.bigint();
  }

  /**
   * The last object's fields. `load_duration` is the time from the request to its slot: the
   * model is always loaded, so what Ollama counts as loading (waiting for the model's runner to be
   * free and loaded) is here the wait in the admission queue, near 0 when a slot is free.
   */
  done(reason: string, promptTokens: number, completionTokens: number): Required<OllamaDoneFields> {
    const end = process.hrtime.bigint();
    const started = this.#started ?? end;
    const first = this.#first ?? end;
    return {
      done_reason: reason,
      total_duration: Number(end - this.#received),
      load_duration: Number(started - this.#received),
      prompt_eval_count: promptTokens,
      prompt_eval_duration: Number(first - started),
      eval_count: completionTokens,
      eval_duration: Number(end - first),
    };
  }
}

/** Ollama's done_reason for the shared finish reason (a turn that called tools is a `stop`). */
export function doneReason(reason: FinishReason | undefined): string {
  return reason === 'length' ? 'length' : 'stop';
}

export function ollamaToolCalls(calls: readonly ToolCall[]): OllamaToolCall[] {
  return calls.map((call) => ({ function: { name: call.name, arguments: parseArguments(call.arguments) } }));
}

function parseArguments(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function createdAt(): string {
  return new Date().toISOString();
}

export class NdjsonAnswer {
  readonly #stream: ResponseStream;

  constructor(app: FastifyInstance, reply: FastifyReply, writeTimeoutMs: number) {
    this.#stream = startStream(app, reply, 'ndjson', writeTimeoutMs);
  }

  get started(): boolean {
    return this.#stream.started;
  }

  line(object: object): void {
    this.#stream.frame(JSON.stringify(object));
  }

  end(object: object): Promise<void> {
    return this.#stream.finish(JSON.stringify(object));
  }

  fail(err: InferdError): Promise<void> {
    return this.#stream.finish(JSON.stringify(ollamaErrorBody(err)));
  }
}

/** Text and tool calls of a finished run (one generation on /api). */
export function finalOutcome(result: RunResult): { text: string; toolCalls: ToolCall[]; reason: string } {
  const outcome = result.outcomes[0];
  return { text: outcome?.text ?? '', toolCalls: outcome?.toolCalls ?? [], reason: doneReason(outcome?.finishReason) };
}
