// Abort handling shared by the store: an aborted operation rejects with `signal.reason`
// (what the caller passed to `abort()`), never with a wrapped AbortError.
import { setTimeout as timersSleep } from 'node:timers/promises';

/** Waits `ms`, or rejects with `signal.reason` as soon as the signal aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  try {
    await timersSleep(ms, undefined, { signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}
