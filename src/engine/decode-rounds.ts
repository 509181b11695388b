// Keeps parallel generations in step so they share one llama_decode per token.
//
// node-llama-cpp batches whatever sequences have queued a token when a decode starts, and its
// decode loop starts the next decode as soon as the previous one returns. After a decode each
// sequence samples and runs its JavaScript before queueing its next token; the last one to get
// there misses the decode that the others already started and rides along one decode later.
// Measured on the medium f16 model with 4 streams: 3 tokens per decode instead of 4, a third more
// decodes, and tinyBLAS falling back to per-row dot products for the odd column, so 4 streams
// cost as much CPU per token as one. Holding each single-token evaluation until every stream in
// the round has one (or a short deadline passes) makes the decodes full again.
//
// The order matters as much: with one KV stream per sequence, llama.cpp splits a batch into
// micro-batches of sequences whose ids follow each other in batch order (`split_equal`, sequential),
// and node-llama-cpp adds tokens in the order they were queued. Four tokens queued as 3,0,1,2
// run as two decodes of 1 and 3, not one of 4. A round is released in sequence-id order.
//
// This wraps LlamaContext's internal `_decodeTokens` (node-llama-cpp is pinned to an exact
// version); when that method is missing the context is left as it is and nothing is held.
// INFERD_DECODE_ROUNDS=0 turns it off, for comparing (bench/vs-llama-server does) or diagnosing.

/** What the wrapper needs of node-llama-cpp's internal decode queue. */
interface DecodeQueue {
  _decodeTokens(item: { tokens: readonly unknown[]; sequenceId?: number }, ...rest: unknown[]): Promise<unknown>;
}

function hasDecodeQueue(context: object): context is DecodeQueue {
  return typeof (context as Partial<DecodeQueue>)._decodeTokens === 'function';
}

export interface DecodeRoundStats {
  /** Rounds released: single-token evaluations handed to the decoder together. */
  rounds: number;
  /** Evaluations in those rounds (tokens per round = tokens / rounds). */
  tokens: number;
  /** Rounds released by the deadline instead of by the last stream arriving. */
  deadlineRounds: number;
}

// The deadline follows the measured round time: a straggler is worth waiting for up to half a
// decode, since missing the round costs it a whole decode of its own.
const MIN_DEADLINE_MS = 1;
const MAX_DEADLINE_MS = 20;

export class DecodeRounds {
  readonly enabled: boolean;
  #members = 0;
  #waiting: Array<{ sequence: number; go: () => void }> = [];
  #timer: NodeJS.Timeout | null = null;
  #roundMs = 0;
  #closed = false;
  readonly #stats: DecodeRoundStats = { rounds: 0, tokens: 0, deadlineRounds: 0 };

  constructor(context: object, env: NodeJS.ProcessEnv = process.env) {
    this.enabled = hasDecodeQueue(context) && env.INFERD_DECODE_ROUNDS !== '0';
    if (!this.enabled || !hasDecodeQueue(context)) return;
    const inner = context._decodeTokens.bind(context);
    context._decodeTokens = (item, ...rest) => {
      // Prompts go straight through: they must not wait for running streams.
      if (item.tokens.length !== 1 || this.#members <= 1 || this.#closed) return inner(item, ...rest);
      return this.#join(item.sequenceId ?? 0).then(() => {
        const started = performance.now();
        const result = inner(item, ...rest);
        void result.then(
          () => this.#observe(performance.now() - started),
          () => undefined,
        );
        return result;
      });
    };
  }

  /** A generation has started producing tokens (its prompt is evaluated). */
  enter(): void {
    this.#members++;
  }

  /** A generation has finished; the streams still running no longer wait for it. */
  leave(): void {
    this.#members = Math.max(0, this.#members - 1);
    if (this.#waiting.length > 0 && this.#waiting.length >= this.#members) this.#release(false);
  }

  stats(): DecodeRoundStats {
    return { ...this.#stats };
  }

  /** Releases anything held; later evaluations go straight through. */
  close(): void {
    this.#closed = true;
    this.#release(false);
  }

  #join(sequence: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push({ sequence, go: resolve });
      if (this.#waiting.length >= this.#members) this.#release(false);
      else this.#timer ??= setTimeout(() => this.#release(true), this.#deadlineMs());
    });
  }

  #release(byDeadline: boolean): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const released = this.#waiting.splice(0).sort((a, b) => a.sequence - b.sequence);
    if (released.length === 0) return;
    this.#stats.rounds++;
    this.#stats.tokens += released.length;
    if (byDeadline) this.#stats.deadlineRounds++;
    // Resolved together and in id order, in a turn of their own: by then node-llama-cpp's decode
    // loop has looked at its queue, found it empty and stopped, so it cannot start a decode with
    // the first half of the round while the second half is still being queued.
    setImmediate(() => {
      for (const { go } of released) go();
    });
  }

  #observe(ms: number): void {
    this.#roundMs = this.#roundMs === 0 ? ms : this.#roundMs * 0.9 + ms * 0.1;
  }

  #deadlineMs(): number {
    return Math.min(MAX_DEADLINE_MS, Math.max(MIN_DEADLINE_MS, this.#roundMs / 2));
  }
}
