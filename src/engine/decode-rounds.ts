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
// This wraps LlamaContext's internal `_decodeTokens` (node-llama-cpp is pinned to an exact
// version); when that method is missing the context is left as it is and nothing is held.
// INFERD_DECODE_ROUNDS=0 turns it off, for comparing (bench/vs-llama-server does) or diagnosing.

/** What the wrapper needs of node-llama-cpp's internal decode queue. */
interface DecodeQueue {
  _decodeTokens(item: { tokens: readonly unknown[] }, ...rest: unknown[]): Promise<unknown>;
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
  #waiting: Array<() => void> = [];
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
      return this.#join().then(() => {
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

  #join(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      if (this.#waiting.length >= this.#members) this.#release(false);
      else this.#timer ??= setTimeout(() => this.#release(true), this.#deadlineMs());
    });
  }

  #release(byDeadline: boolean): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const released = this.#waiting.splice(0);
    if (released.length === 0) return;
    this.#stats.rounds++;
    this.#stats.tokens += released.length;
    if (byDeadline) this.#stats.deadlineRounds++;
    // Resolved together, so every evaluation is queued in the same turn and one decode takes all.
    for (const resolve of released) resolve();
  }

  #observe(ms: number): void {
    this.#roundMs = this.#roundMs === 0 ? ms : this.#roundMs * 0.9 + ms * 0.1;
  }

  #deadlineMs(): number {
    return Math.min(MAX_DEADLINE_MS, Math.max(MIN_DEADLINE_MS, this.#roundMs / 2));
  }
}
