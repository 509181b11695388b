// The answers of POST /v1/chat/completions: one chat.completion object, or a stream of
// chat.completion.chunk events (role first, then content, tool calls, the finish reason, and
// usage when asked for).
import type { ChatCompletion, ChatCompletionChunk } from './chat-schemas.js';
import type { OpenAIUsage } from './common-schemas.js';
import type { OpenAiEventStream } from './event-stream.js';
import type { GenerationOutcome, RunResult } from '../inference/run-generations.js';
import { openAiToolCalls } from './tools.js';

/** What every object of one completion shares. */
export interface CompletionBase {
  id: string;
  created: number;
  model: string;
}

export function chatCompletion(base: CompletionBase, result: RunResult): ChatCompletion {
  return {
    id: base.id,
    object: 'chat.completion',
    created: base.created,
    model: base.model,
    choices: result.outcomes.map((outcome, index) => {
      const toolCalls = openAiToolCalls(outcome.toolCalls);
      return {
        index,
        message: {
          role: 'assistant' as const,
          // A reply that is only tool calls has no content, as OpenAI sends it.
          content: toolCalls.length > 0 && outcome.text === '' ? null : outcome.text,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: outcome.finishReason,
      };
    }),
    usage: result.usage,
  };
}

export class ChatChunks {
  readonly #events: OpenAiEventStream;
  readonly #base: CompletionBase;
  readonly #includeUsage: boolean;
  #roleSent = false;

  constructor(events: OpenAiEventStream, base: CompletionBase, includeUsage: boolean) {
    this.#events = events;
    this.#base = base;
    this.#includeUsage = includeUsage;
  }

  text(text: string): void {
    this.#role();
    this.#send({ content: text });
  }

  async end(result: RunResult): Promise<void> {
    this.#role();
    const outcome: GenerationOutcome | undefined = result.outcomes[0];
    openAiToolCalls(outcome?.toolCalls).forEach((call, index) => this.#send({ tool_calls: [{ index, ...call }] }));
    this.#send({}, outcome?.finishReason ?? 'stop');
    if (this.#includeUsage) this.#chunk([], result.usage);
    await this.#events.done();
  }

  /** The first chunk names the role; it is sent just before the first content (see event-stream.ts). */
  #role(): void {
    if (this.#roleSent) return;
    this.#roleSent = true;
    this.#send({ role: 'assistant', content: '' });
  }

  #send(delta: ChatCompletionChunk['choices'][number]['delta'], finishReason: ChatCompletionChunk['choices'][number]['finish_reason'] = null): void {
    this.#chunk([{ index: 0, delta, logprobs: null, finish_reason: finishReason }], null);
  }

  #chunk(choices: ChatCompletionChunk['choices'], usage: OpenAIUsage | null): void {
    const { id, created, model } = this.#base;
    const chunk: ChatCompletionChunk = { id, object: 'chat.completion.chunk', created, model, choices };
    // With include_usage every chunk carries the field, null until the last one (as OpenAI does).
    if (this.#includeUsage) chunk.usage = usage;
    this.#events.send(chunk);
  }
}
