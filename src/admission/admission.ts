// The admission gate (contract §1.5): `slots` requests run at once and `queueDepth` more may
// wait; beyond that a request is refused at once with queue_full. One gate serves every
// transport and every kind of work (chat, completion, embedding): one slot is one slot.
import { InferdError } from '../errors.js';

export interface AdmissionOptions {
  slots: number;
  queueDepth: number;
}

/** A held slot. Releasing twice is harmless, so every exit path can release. */
export interface Permit {
  release(): void;
}

interface Waiter {
  resolve: (permit: Permit) => void;
  reject: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  queuedAt: number;
}

export interface AdmissionStats {
  slots: number;
  queueDepth: number;
  active: number;
  queued: number;
  admittedTotal: number;
  rejectedTotal: number;
  cancelledWhileQueuedTotal: number;
}

export class Admission {
  readonly slots: number;
  readonly queueDepth: number;
  #active = 0;
  #queue: Waiter[] = [];
  #idle: Array<() => void> = [];
  #admitted = 0;
  #rejected = 0;
  #cancelledQueued = 0;
  #waitListeners: Array<(seconds: number) => void> = [];

  constructor({ slots, queueDepth }: AdmissionOptions) {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`slots must be an integer >= 1 (got ${slots})`);
    if (!Number.isInteger(queueDepth) || queueDepth < 0) throw new RangeError(`queueDepth must be an integer >= 0 (got ${queueDepth})`);
    this.slots = slots;
    this.queueDepth = queueDepth;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Tells `listener` how long each admitted request waited for its slot (the queue-wait metric). */
  onAdmitted(listener: (waitSeconds: number) => void): void {
    this.#waitListeners.push(listener);
  }

  /** Requests holding or waiting for a slot. */
  get inFlight(): number {
    return this.#active + this.#queue.length;
  }

  /**
   * Takes a slot, waiting in the queue if all are busy. Rejects at once with queue_full when the
   * queue is full too. If `signal` aborts while waiting, the request leaves the queue and the
   * promise rejects with the signal's reason.
   */
  acquire(signal?: AbortSignal): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.slots) {
      this.#active++;
      this.#admitted++;
      this.#tellWait(0);
      return Promise.resolve(this.#permit());
    }
    if (this.#queue.length >= this.queueDepth) {
      this.#rejected++;
      return Promise.reject(
        new InferdError('queue_full', 'queue full', { detail: { slots: this.slots, queue_depth: this.queueDepth } }),
      );
    }
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        queuedAt: performance.now(),
        onAbort: () => {
          const index = this.#queue.indexOf(waiter);
          if (index >= 0) {
            this.#queue.splice(index, 1);
            this.#cancelledQueued++;
            this.#notifyIdle();
          }
          reject(signal?.reason);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  /** Resolves when nothing holds or waits for a slot. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Refuses every queued request (used when the daemon gives up waiting during drain). */
  rejectQueued(err: InferdError): void {
    for (const waiter of this.#queue.splice(0)) {
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(err);
    }
    this.#notifyIdle();
  }

  stats(): AdmissionStats {
    return {
      slots: this.slots,
      queueDepth: this.queueDepth,
      active: this.#active,
      queued: this.#queue.length,
      admittedTotal: this.#admitted,
      rejectedTotal: this.#rejected,
      cancelledWhileQueuedTotal: this.#cancelledQueued,
    };
  }

  #permit(): Permit {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#handOver();
      },
    };
  }

  /** A freed slot goes straight to the oldest waiter, so the queue is served in order. */
  #handOver(): void {
    const next = this.#queue.shift();
    if (next) {
      next.signal?.removeEventListener('abort', next.onAbort);
      this.#admitted++;
      this.#tellWait((performance.now() - next.queuedAt) / 1000);
      next.resolve(this.#permit());
      return;
    }
    this.#active--;
    this.#notifyIdle();
  }

  #tellWait(seconds: number): void {
    for (const listener of this.#waitListeners) listener(seconds);
  }

  #notifyIdle(): void {
    if (this.inFlight !== 0) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
