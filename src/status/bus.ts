// The StatusBus: the one place lifecycle events enter, and the one fan-out every transport
// (SSE, chunked NDJSON, admin.sock) reads from. It keeps the current snapshot, a separate
// capabilities slot, a replay ring for SSE Last-Event-ID, and one bounded queue per subscriber.
// publish() is synchronous and O(subscribers): it never awaits and never blocks on a reader.
import { randomBytes } from 'node:crypto';
import { InferdError } from '../errors.js';
import { renderStatusFrame, type StatusEvent, type StatusName } from './events.js';
import { Subscription, kDeliver, kEnd, type StatusRecord } from './subscription.js';

export { Subscription, type StatusRecord, type CloseReason } from './subscription.js';

/** Contract §1.10: the reference broadcast channel holds 256 events. */
export const DEFAULT_QUEUE_LIMIT = 256;
export const DEFAULT_REPLAY_SIZE = 256;

export interface StatusBusOptions {
  /** Records kept for Last-Event-ID replay (at least 1). */
  replaySize?: number;
  /** Default per-subscriber queue bound (at least 1). */
  queueLimit?: number;
}

export interface SubscribeOptions {
  /** The last id the client saw (SSE Last-Event-ID); replays what came after it when possible. */
  lastEventId?: number;
  /** Records this subscriber may fall behind before it is disconnected as `lagged`. */
  queueLimit?: number;
  /** Unsubscribes when aborted (e.g. the request's or the connection's signal). */
  signal?: AbortSignal;
}

export interface StatusBusStats {
  subscribers: number;
  laggedDisconnects: number;
  /** Events published so far, including the initial `starting`; equals the last event id. */
  published: number;
  /** Records currently held by the replay ring. */
  replayHeld: number;
}

type Predicate = (event: StatusEvent, record: StatusRecord) => boolean;

interface Watcher {
  predicate: Predicate;
  resolve: (record: StatusRecord) => void;
  reject: (err: unknown) => void;
}

function positiveInt(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InferdError('internal', `${what} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export class StatusBus {
  readonly #replaySize: number;
  readonly #queueLimit: number;
  /** Circular: record `id` lives at `id % replaySize`; ids are consecutive from 1. */
  readonly #ring: Array<StatusRecord | undefined>;
  #lastId = 0;
  #snapshot!: StatusRecord;
  #capabilities: StatusRecord | undefined;
  readonly #subs = new Set<Subscription>();
  readonly #watchers = new Set<Watcher>();
  #closed = false;
  #lagged = 0;
  // Re-entrancy guard: an abort listener run during fan-out may publish; its record waits
  // here so every subscriber still sees records in id order.
  #delivering = false;
  readonly #backlog: StatusRecord[] = [];

  /** Differs on every start: event ids restart at 1 in each process. */
  readonly bootId = randomBytes(4).toString('hex');

  constructor(options: StatusBusOptions = {}) {
    this.#replaySize = positiveInt(options.replaySize, DEFAULT_REPLAY_SIZE, 'replaySize');
    this.#queueLimit = positiveInt(options.queueLimit, DEFAULT_QUEUE_LIMIT, 'queueLimit');
    this.#ring = new Array<StatusRecord | undefined>(this.#replaySize);
    this.publish({ status: 'starting' });
  }

  /** The latest lifecycle (non-capabilities) record. */
  get snapshot(): StatusRecord {
    return this.#snapshot;
  }

  /** The latest capabilities record, once the engine has reported one. */
  get capabilities(): StatusRecord | undefined {
    return this.#capabilities;
  }

  get lastEventId(): number {
    return this.#lastId;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  stats(): StatusBusStats {
    return {
      subscribers: this.#subs.size,
      laggedDisconnects: this.#lagged,
      published: this.#lastId,
      replayHeld: Math.min(this.#lastId, this.#replaySize),
    };
  }

  /**
   * Assigns the next id, renders the frame once and queues the record for every subscriber.
   * After close() the snapshot still moves (readyz and late subscribers see it), but nobody
   * is listening live.
   */
  publish(event: StatusEvent): StatusRecord {
    const id = ++this.#lastId;
    // A frozen copy: the frame was rendered from it, so nobody may change it afterwards.
    const frozen = Object.freeze({ ...event }) as StatusEvent;
    const record: StatusRecord = Object.freeze({ id, event: frozen, frame: renderStatusFrame(frozen) });
    this.#ring[id % this.#replaySize] = record;
    if (frozen.status === 'capabilities') this.#capabilities = record;
    else this.#snapshot = record;
    this.#fanOut(record);
    return record;
  }

  /**
   * A new subscription. Its first records are decided and it is registered in the same
   * synchronous step, so no publish can fall between them: with `lastEventId` and the ring
   * still holding everything after it (and no more than `queueLimit` records), exactly the
   * missed records; otherwise the capabilities record (if any) then the snapshot.
   */
  subscribe(options: SubscribeOptions = {}): Subscription {
    const limit = positiveInt(options.queueLimit, this.#queueLimit, 'queueLimit');
    const initial = this.#replayAfter(options.lastEventId, limit) ?? this.#current();
    const sub = new Subscription(initial, limit, this.#lastId, (s) => this.#subs.delete(s));
    if (this.#closed) {
      sub[kEnd]('closed');
      return sub;
    }
    this.#subs.add(sub);
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) sub.close();
      else signal.addEventListener('abort', () => sub.close(), { once: true, signal: sub.signal });
    }
    return sub;
  }

  /**
   * Resolves with the first record whose event satisfies `predicate`, checking the current
   * capabilities and snapshot first, then every later publish (synchronously, so a burst
   * cannot skip past it). Rejects when `signal` aborts or the bus closes first.
   */
  waitFor(predicate: Predicate, signal?: AbortSignal): Promise<StatusRecord> {
    for (const record of this.#current()) {
      try {
        if (predicate(record.event, record)) return Promise.resolve(record);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#closed) return Promise.reject(this.#closedError());
    return new Promise<StatusRecord>((resolve, reject) => {
      const onAbort = (): void => watcher.reject(signal?.reason);
      const settle = (): void => {
        this.#watchers.delete(watcher);
        signal?.removeEventListener('abort', onAbort);
      };
      const watcher: Watcher = {
        predicate,
        resolve: (record) => {
          settle();
          resolve(record);
        },
        reject: (err) => {
          settle();
          reject(err);
        },
      };
      this.#watchers.add(watcher);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** waitFor() on the lifecycle status, e.g. `waitForStatus('ready')`. */
  waitForStatus(status: StatusName | readonly StatusName[], signal?: AbortSignal): Promise<StatusRecord> {
    const wanted: readonly StatusName[] = typeof status === 'string' ? [status] : status;
    return this.waitFor((event) => wanted.includes(event.status), signal);
  }

  /**
   * Ends every subscription as `closed` (each still drains what it has queued, so a final
   * `draining` frame published just before reaches everyone) and rejects pending waitFor().
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const subs = [...this.#subs];
    this.#subs.clear();
    for (const sub of subs) sub[kEnd]('closed');
    const err = this.#closedError();
    for (const watcher of [...this.#watchers]) watcher.reject(err);
  }

  #current(): StatusRecord[] {
    return this.#capabilities ? [this.#capabilities, this.#snapshot] : [this.#snapshot];
  }

  #replayAfter(lastEventId: number | undefined, limit: number): StatusRecord[] | undefined {
    if (lastEventId === undefined || !Number.isSafeInteger(lastEventId) || lastEventId < 0) return undefined;
    const missed = this.#lastId - lastEventId;
    // missed < 0: an id from an earlier daemon process (ids restart at 1); fall back.
    if (missed < 0 || missed > this.#replaySize || missed > limit) return undefined;
    const out: StatusRecord[] = [];
    for (let id = lastEventId + 1; id <= this.#lastId; id++) {
      const record = this.#ring[id % this.#replaySize];
      if (record?.id !== id) return undefined;
      out.push(record);
    }
    return out;
  }

  #fanOut(record: StatusRecord): void {
    this.#backlog.push(record);
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (let i = 0; i < this.#backlog.length; i++) {
        const next = this.#backlog[i]!;
        for (const sub of this.#subs) {
          if (!sub[kDeliver](next)) {
            this.#subs.delete(sub);
            this.#lagged++;
            sub[kEnd]('lagged');
          }
        }
        this.#notifyWatchers(next);
      }
    } finally {
      this.#backlog.length = 0;
      this.#delivering = false;
    }
  }

  #notifyWatchers(record: StatusRecord): void {
    if (this.#watchers.size === 0) return;
    for (const watcher of [...this.#watchers]) {
      let matched: boolean;
      try {
        matched = watcher.predicate(record.event, record);
      } catch (err) {
        watcher.reject(err);
        continue;
      }
      if (matched) watcher.resolve(record);
    }
  }

  #closedError(): InferdError {
    return new InferdError('backend_unavailable', 'status bus closed', { detail: { status: this.#snapshot.event.status } });
  }
}
