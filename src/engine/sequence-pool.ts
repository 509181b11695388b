// A pool of context sequences. Admission already bounds concurrency, but the engine does not
// rely on that: a caller that finds every sequence busy waits for one (or for its abort).
import { InferdError } from '../errors.js';

export class SequencePool<T> {
  /** Free items, kept in their original order (see take). */
  readonly #free: T[];
  readonly #order: Map<T, number>;
  readonly #waiting: Array<{ resolve: (item: T) => void; reject: (err: unknown) => void }> = [];
  #closedWith: InferdError | null = null;

  constructor(items: T[]) {
    this.#free = [...items];
    this.#order = new Map(items.map((item, i) => [item, i]));
  }

  /**
   * A free item, preferring the one `score` rates highest (the engine rates a sequence by how
   * much of the prompt its KV cache already holds), and among equals the first in the original
   * order: busy sequences then stay low-numbered and adjacent, which is what llama.cpp needs to
   * evaluate their tokens in one micro-batch. Waiters are served first come, first served.
   */
  take(signal?: AbortSignal, score?: (item: T) => number): Promise<T> {
    if (this.#closedWith) return Promise.reject(this.#closedWith);
    let best = this.#free.length > 0 ? 0 : -1;
    if (score) {
      let bestScore = -Infinity;
      this.#free.forEach((candidate, i) => {
        const value = score(candidate);
        if (value > bestScore) [best, bestScore] = [i, value];
      });
    }
    if (best >= 0) return Promise.resolve(this.#free.splice(best, 1)[0] as T);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        resolve: (got: T) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(got);
        },
        reject,
      };
      const onAbort = () => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  give(item: T): void {
    const waiter = this.#waiting.shift();
    if (waiter) return waiter.resolve(item);
    const rank = this.#order.get(item) ?? Infinity;
    const at = this.#free.findIndex((other) => (this.#order.get(other) ?? Infinity) > rank);
    this.#free.splice(at < 0 ? this.#free.length : at, 0, item);
  }

  close(reason: InferdError): void {
    this.#closedWith = reason;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(reason);
  }
}
