// Recent load, from the request listeners of Metrics: tokens counted as they stream (so a long
// generation shows up while it runs, not when it ends) and the time to first token of recently
// finished requests. Cheap on the hot path: one bucket increment per token.
import type { RequestListener, RequestRecord } from '../metrics/metrics.js';

/** Tokens/s is the count over this many seconds. */
const RATE_WINDOW_S = 5;
/** TTFT p50 covers requests finished in the last minute... */
const TTFT_WINDOW_MS = 60_000;
/** ...but at most this many of them. */
const TTFT_MAX_SAMPLES = 256;

export class LoadTracker implements RequestListener {
  readonly #now: () => number;
  /** Tokens per whole second, in a ring indexed by second; `#bucketSecond` says which second. */
  readonly #buckets = new Array<number>(RATE_WINDOW_S + 1).fill(0);
  readonly #bucketSecond = new Array<number>(RATE_WINDOW_S + 1).fill(-1);
  readonly #ttft: Array<{ at: number; ms: number }> = [];
  readonly #since: number;
  #done = 0;

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#since = now();
  }

  get requestsDone(): number {
    return this.#done;
  }

  token(): void {
    const second = Math.floor(this.#now() / 1000);
    const i = second % this.#buckets.length;
    if (this.#bucketSecond[i] !== second) {
      this.#bucketSecond[i] = second;
      this.#buckets[i] = 0;
    }
    this.#buckets[i]! += 1;
  }

  finished(record: RequestRecord): void {
    this.#done += 1;
    if (record.ttftSeconds === null) return;
    this.#ttft.push({ at: this.#now(), ms: record.ttftSeconds * 1000 });
    if (this.#ttft.length > TTFT_MAX_SAMPLES) this.#ttft.shift();
  }

  /** Tokens per second over the last RATE_WINDOW_S seconds (the current one included, pro rata). */
  tokensPerSecond(): number {
    const now = this.#now();
    const second = Math.floor(now / 1000);
    let tokens = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      const s = this.#bucketSecond[i]!;
      if (s > second - RATE_WINDOW_S && s <= second) tokens += this.#buckets[i]!;
    }
    // Whole past seconds plus the elapsed part of this one, but never more than we have existed.
    const span = Math.min(RATE_WINDOW_S - 1 + (now / 1000 - second), (now - this.#since) / 1000);
    return span > 0 ? tokens / Math.max(span, 1) : 0;
  }

  /** Median TTFT (ms) of requests finished in the last minute, or null. */
  ttftP50Ms(): number | null {
    const cutoff = this.#now() - TTFT_WINDOW_MS;
    while (this.#ttft.length > 0 && this.#ttft[0]!.at < cutoff) this.#ttft.shift();
    if (this.#ttft.length === 0) return null;
    const sorted = this.#ttft.map((s) => s.ms).sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  }
}
