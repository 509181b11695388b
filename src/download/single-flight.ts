// In-process single-flight: concurrent callers with the same key share one run of the task.
// Every member receives the task's events (a late joiner first gets a compacted replay), and
// the shared task is aborted only when every member has aborted (the last one's promise then
// settles once the task has wound down).

export interface FlightOptions<E> {
  onEvent?: ((event: E) => void) | undefined;
  signal?: AbortSignal | undefined;
}

interface Flight<T, E> {
  promise: Promise<T>;
  controller: AbortController;
  listeners: Set<(event: E) => void>;
  history: E[];
  members: number;
}

export type FlightTask<T, E> = (emit: (event: E) => void, signal: AbortSignal) => Promise<T>;

export class SingleFlight<T, E> {
  private readonly flights = new Map<string, Flight<T, E>>();

  /**
   * @param collapse true when `next` supersedes `prev` in the replay history (e.g. two
   *   progress frames in a row), so a late joiner is not flooded with stale frames.
   */
  constructor(private readonly collapse: (prev: E, next: E) => boolean = () => false) {}

  /** True while a task for `key` is running. */
  has(key: string): boolean {
    return this.flights.has(key);
  }

  run(key: string, task: FlightTask<T, E>, options: FlightOptions<E> = {}): Promise<T> {
    const { signal, onEvent } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let flight = this.flights.get(key);
    if (flight === undefined) {
      flight = this.start(key, task);
    } else if (onEvent) {
      for (const event of flight.history) safeCall(onEvent, event);
    }
    const f = flight;
    const listener = onEvent ? (event: E) => safeCall(onEvent, event) : null;
    if (listener) f.listeners.add(listener);
    f.members++;
    return new Promise<T>((resolve, reject) => {
      const cleanup = () => {
        signal?.removeEventListener('abort', onAbort);
        if (listener) f.listeners.delete(listener);
      };
      const onAbort = () => {
        cleanup();
        f.members--;
        if (f.members > 0) return reject(signal?.reason);
        // The last member left: stop the task, let nobody new join it, and settle only once it
        // has wound down (partial flushed, locks released), so "rejected" means "stopped".
        if (this.flights.get(key) === f) this.flights.delete(key);
        f.controller.abort(signal?.reason);
        const settle = () => reject(signal?.reason);
        f.promise.then(settle, settle);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      f.promise.then(
        (value) => {
          if (signal?.aborted) return;
          cleanup();
          resolve(value);
        },
        (err: unknown) => {
          if (signal?.aborted) return;
          cleanup();
          reject(err);
        },
      );
    });
  }

  private start(key: string, task: FlightTask<T, E>): Flight<T, E> {
    const flight: Flight<T, E> = {
      promise: Promise.resolve() as unknown as Promise<T>,
      controller: new AbortController(),
      listeners: new Set(),
      history: [],
      members: 0,
    };
    const emit = (event: E) => {
      const last = flight.history[flight.history.length - 1];
      if (last !== undefined && this.collapse(last, event)) flight.history[flight.history.length - 1] = event;
      else flight.history.push(event);
      for (const l of [...flight.listeners]) l(event);
    };
    // Started on the next microtask, so the first member's listener is in place for event one.
    flight.promise = Promise.resolve()
      .then(() => task(emit, flight.controller.signal))
      .finally(() => {
        if (this.flights.get(key) === flight) this.flights.delete(key);
      });
    // Members observe the outcome; this keeps an all-members-aborted run from being "unhandled".
    flight.promise.catch(() => undefined);
    this.flights.set(key, flight);
    return flight;
  }
}

/** A listener that throws must not break the download it is watching. */
function safeCall<E>(fn: (event: E) => void, event: E): void {
  try {
    fn(event);
  } catch {
    // ignored on purpose
  }
}
