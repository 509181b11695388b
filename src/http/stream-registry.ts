// Every open streaming response, so closing the server can end them instead of waiting on
// clients that never hang up (fastify/sse#57 is that bug elsewhere). Closing is graceful: each
// stream is asked to finish (an admin stream writes what is queued, then ends), and only one
// that has not ended within the grace period is dropped. Dropping a socket loses the chunked
// terminator, which clients report as an error (curl exit 18, ERR_INCOMPLETE_CHUNKED_ENCODING).
import type { StreamPump } from '../protocol/stream-pump.js';

/** How long close waits for streams to end by themselves before dropping them. */
export const STREAM_CLOSE_GRACE_MS = 2000;

interface Entry {
  stop: () => void;
  done: Promise<void>;
}

export class StreamRegistry {
  readonly #open = new Map<StreamPump, Entry>();

  get size(): number {
    return this.#open.size;
  }

  /**
   * Tracks `pump` until its peer is gone or the returned untrack function is called (after the
   * stream ended). `stop` asks the stream to finish cleanly; without one, close waits for the
   * owner to end it (inference streams: the drain has already ended or cancelled their work).
   */
  track(pump: StreamPump, stop: () => void = () => {}): () => void {
    let settle!: () => void;
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const untrack = () => {
      if (this.#open.get(pump)?.done === done) this.#open.delete(pump);
      settle();
    };
    this.#open.set(pump, { stop, done });
    pump.signal.addEventListener('abort', untrack, { once: true });
    return untrack;
  }

  /** Asks every stream to end, waits up to `graceMs`, then drops whatever is still open. */
  async closeAll(graceMs = STREAM_CLOSE_GRACE_MS): Promise<void> {
    const entries = [...this.#open];
    if (entries.length === 0) return;
    for (const [, entry] of entries) entry.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(entries.map(([, entry]) => entry.done)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    for (const [pump] of this.#open) pump.destroy('destroyed', 'server closing');
    this.#open.clear();
  }
}
