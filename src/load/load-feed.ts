// One timer for every open /admin/load stream: the snapshot is built and serialized once per
// tick and handed to each subscriber, so fifty dashboards cost fifty writes, not fifty timers.
import type { LoadSnapshot } from './load-snapshot.js';

export type LoadSubscriber = (json: string) => void;

export class LoadFeed {
  readonly #snapshot: () => LoadSnapshot;
  readonly #intervalMs: number;
  readonly #subscribers = new Set<LoadSubscriber>();
  #timer: NodeJS.Timeout | null = null;

  constructor(snapshot: () => LoadSnapshot, intervalMs: number) {
    this.#snapshot = snapshot;
    this.#intervalMs = intervalMs;
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** Calls `subscriber` now with the current snapshot, then once per interval. */
  subscribe(subscriber: LoadSubscriber): () => void {
    this.#subscribers.add(subscriber);
    subscriber(JSON.stringify(this.#snapshot()));
    if (this.#timer === null) {
      this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
      // An idle feed must not keep the process alive on its own.
      this.#timer.unref();
    }
    return () => {
      this.#subscribers.delete(subscriber);
      if (this.#subscribers.size === 0 && this.#timer !== null) {
        clearInterval(this.#timer);
        this.#timer = null;
      }
    };
  }

  #tick(): void {
    const json = JSON.stringify(this.#snapshot());
    for (const subscriber of [...this.#subscribers]) subscriber(json);
  }
}
