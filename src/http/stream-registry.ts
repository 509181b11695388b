// Every open streaming response, so closing the server can end them instead of waiting on
// clients that never hang up (fastify/sse#57 is that bug elsewhere).
import type { StreamPump } from '../protocol/stream-pump.js';

export class StreamRegistry {
  readonly #open = new Set<StreamPump>();

  get size(): number {
    return this.#open.size;
  }

  /** Tracks `pump` until its peer is gone or it is closed; returns the untrack function. */
  track(pump: StreamPump): () => void {
    this.#open.add(pump);
    const untrack = () => this.#open.delete(pump);
    pump.signal.addEventListener('abort', untrack, { once: true });
    return () => {
      untrack();
    };
  }

  closeAll(): void {
    for (const pump of [...this.#open]) pump.destroy('destroyed', 'server closing');
    this.#open.clear();
  }
}
