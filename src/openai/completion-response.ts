// The answers of POST /v1/completions: one text_completion object, or a stream of text_completion
// chunks, each choice ending with a chunk that carries its finish_reason.
import type { CompletionBase } from './chat-response.js';
import type { OpenAIUsage } from './common-schemas.js';
import type { Completion, CompletionChunk } from './completion-schemas.js';
import type { OpenAiEventStream } from './event-stream.js';
import type { GenerationOutcome, RunResult } from '../inference/run-generations.js';

type CompletionFinish = Completion['choices'][number]['finish_reason'];

/** Text completions never call tools, so their finish reason is stop or length. */
function finishOf(outcome: GenerationOutcome): CompletionFinish {
  return outcome.finishReason === 'length' ? 'length' : 'stop';
}

export function completion(base: CompletionBase, result: RunResult, echo: string[] | null): Completion {
  return {
    id: base.id,
    object: 'text_completion',
    created: base.created,
    model: base.model,
    choices: result.outcomes.map((outcome, index) => ({
      text: (echo?.[index] ?? '') + outcome.text,
      index,
      logprobs: null,
      finish_reason: finishOf(outcome),
    })),
    usage: result.usage,
  };
}

export class CompletionChunks {
  readonly #events: OpenAiEventStream;
  readonly #base: CompletionBase;
  readonly #includeUsage: boolean;
  readonly #echo: string[] | null;
  readonly #echoed = new Set<number>();

  constructor(events: OpenAiEventStream, base: CompletionBase, includeUsage: boolean, echo: string[] | null) {
    this.#events = events;
    this.#base = base;
    this.#includeUsage = includeUsage;
    this.#echo = echo;
  }

  text(index: number, text: string): void {
    this.#sendEcho(index);
    this.#choice(index, text, null);
  }

  finished(index: number, outcome: GenerationOutcome): void {
    this.#sendEcho(index);
    this.#choice(index, '', finishOf(outcome));
  }

  async end(usage: OpenAIUsage): Promise<void> {
    if (this.#includeUsage) this.#chunk([], usage);
    await this.#events.done();
  }

  #sendEcho(index: number): void {
    const prompt = this.#echo?.[index];
    if (prompt === undefined || this.#echoed.has(index)) return;
    this.#echoed.add(index);
    if (prompt !== '') this.#choice(index, prompt, null);
  }

  #choice(index: number, text: string, finishReason: CompletionChunk['choices'][number]['finish_reason']): void {
    this.#chunk([{ text, index, logprobs: null, finish_reason: finishReason }], null);
  }

  #chunk(choices: CompletionChunk['choices'], usage: OpenAIUsage | null): void {
    const { id, created, model } = this.#base;
    const chunk: CompletionChunk = { id, object: 'text_completion', created, model, choices };
    if (this.#includeUsage) chunk.usage = usage;
    this.#events.send(chunk);
  }
}
