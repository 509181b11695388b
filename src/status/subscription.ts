// One subscriber's view of the StatusBus: a bounded queue of shared records that a transport
// drains at its own pace. The bus pushes synchronously and never waits; a consumer that lets
// the queue fill is cut off (`lagged`) instead of slowing the bus or growing memory.
import type { StatusEvent } from './events.js';

/** One published event: its id, the event, and the frame JSON rendered once for everyone. */
export interface StatusRecord {
  readonly id: number;
  readonly event: StatusEvent;
  /** `renderStatusFrame(event)`, without trailing newline; transports add their framing. */
  readonly frame: string;
}

/**
 * Why a subscription ended. `lagged`: it fell more than `queueLimit` records behind (queued
 * records are dropped). `closed`: the bus closed (queued records are still delivered).
 * `unsubscribed`: the consumer called `close()` (queued records are dropped).
 */
export type CloseReason = 'lagged' | 'closed' | 'unsubscribed';

// Bus-only entry points. Symbol keys keep them off the consumer-facing surface.
export const kDeliver = Symbol('inferd.subscription.deliver');
export const kEnd = Symbol('inferd.subscription.end');

type Waiter = (ready: boolean) => void;

export class Subscription implements AsyncIterableIterator<StatusRecord> {
  readonly queueLimit: number;
  #items: StatusRecord[];
  #head = 0;
  /** Highest id already queued or covered by the initial records; later deliveries must be newer. */
  #lastId: number;
  #reason: CloseReason | undefined;
  readonly #ac = new AbortController();
  readonly #closed: Promise<CloseReason>;
  #resolveClosed!: (reason: CloseReason) => void;
  #waiters: Waiter[] = [];
  readonly #detach: (sub: Subscription) => void;

  /** @internal Created by `StatusBus.subscribe()`. */
  constructor(initial: StatusRecord[], queueLimit: number, lastId: number, detach: (sub: Subscription) => void) {
    this.queueLimit = queueLimit;
    this.#items = initial;
    this.#lastId = lastId;
    this.#detach = detach;
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** Set once the subscription has ended; queued records may still be taken after `closed`. */
  get closeReason(): CloseReason | undefined {
    return this.#reason;
  }

  /** Aborts (with an AbortError) the moment the subscription ends, whatever the reason. */
  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  /** Resolves with the reason when the subscription ends. Never rejects. */
  get closed(): Promise<CloseReason> {
    return this.#closed;
  }

  /** Records queued and not yet taken. */
  get pending(): number {
    return this.#items.length - this.#head;
  }

  /** Ended and fully drained: nothing more will ever come out. */
  get done(): boolean {
    return this.#reason !== undefined && this.pending === 0;
  }

  /** The next queued record, or undefined when the queue is empty right now. */
  shift(): StatusRecord | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const record = this.#items[this.#head++];
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    return record;
  }

  /** Every queued record, oldest first, in one go (one write for a whole burst). */
  takeAll(): StatusRecord[] {
    if (this.#head >= this.#items.length) return [];
    const out = this.#head === 0 ? this.#items : this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return out;
  }

  /**
   * Resolves `true` once there is something to take or the subscription has ended, `false` if
   * `timeoutMs` passed first (a transport uses that to send a heartbeat). Each call registers
   * its own waiter and removes it on timeout, so idle heartbeats never accumulate.
   */
  wait(timeoutMs?: number): Promise<boolean> {
    if (this.pending > 0 || this.#reason !== undefined) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      if (timeoutMs === undefined) {
        this.#waiters.push(resolve);
        return;
      }
      const waiter: Waiter = (ready) => {
        clearTimeout(timer);
        resolve(ready);
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i !== -1) this.#waiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  async next(): Promise<IteratorResult<StatusRecord, undefined>> {
    for (;;) {
      const record = this.shift();
      if (record !== undefined) return { done: false, value: record };
      if (this.#reason !== undefined) return { done: true, value: undefined };
      await this.wait();
    }
  }

  /** `break` out of `for await` unsubscribes. */
  async return(): Promise<IteratorResult<StatusRecord, undefined>> {
    this.close();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Unsubscribe. Idempotent; drops whatever is still queued. */
  close(): void {
    if (this.#reason !== undefined) return;
    this.#detach(this);
    this[kEnd]('unsubscribed');
  }

  /**
   * Bus side: queue a live record. Returns false when the queue is full, and the bus then ends
   * the subscription as `lagged`. Records at or below the high-water id are already covered
   * (initial records, or a re-entrant subscribe during fan-out) and are skipped, which is what
   * makes subscribe gap- and duplicate-free.
   */
  [kDeliver](record: StatusRecord): boolean {
    if (this.#reason !== undefined || record.id <= this.#lastId) return true;
    if (this.pending >= this.queueLimit) return false;
    this.#lastId = record.id;
    this.#items.push(record);
    this.#wake(true);
    return true;
  }

  /** Bus side: end the subscription. Only a bus close keeps the queue for draining. */
  [kEnd](reason: CloseReason): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    if (reason !== 'closed') {
      this.#items = [];
      this.#head = 0;
    }
    this.#wake(true);
    this.#resolveClosed(reason);
    this.#ac.abort(new DOMException(`status subscription ${reason}`, 'AbortError'));
  }

  #wake(ready: boolean): void {
    if (this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter(ready);
  }
}
