// The daemon's state machine (contract §1.10): starting → loading_model → capabilities → ready,
// then restarting (reload) or draining (shutdown). It owns the engine and publishes every step
// on the StatusBus; the inference gate asks it for the engine to use.
import type { Admission } from '../admission/admission.js';
import type { ModelConfig } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import { InferdError, toInferdError } from '../errors.js';
import type { EngineHolder } from '../inference/gate.js';
import type { StatusBus } from '../status/bus.js';
import type { LoadPhase, RestartPhase } from '../status/events.js';

export type LifecycleState = 'starting' | 'loading' | 'ready' | 'restarting' | 'draining' | 'failed' | 'stopped';

/** What to serve: a configured model, or (undefined) the built-in demo model. */
export type ModelTarget = ModelConfig | undefined;

export interface AcquiredModel {
  path: string;
  /** File size: small models default to one thread. */
  sizeBytes: number;
}

export interface LifecycleLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/**
 * A transport that exists only while the daemon is ready (infer.sock, contract §1.9 ready
 * gating). open() is awaited before `ready` is published, so whoever sees `ready` can connect
 * at once; close() runs synchronously when `restarting` or `draining` begins, before either is
 * published.
 */
export interface ReadyGatedTransport {
  open(): Promise<void>;
  close(): void;
}

export interface LifecycleOptions {
  bus: StatusBus;
  /** A failure to open fails start(); after a reload it is logged and the daemon serves without it. */
  readyGated?: ReadyGatedTransport;
  admission: Admission;
  log: LifecycleLog;
  drainTimeoutMs: number;
  target: ModelTarget;
  /** Finds, downloads or builds the model file; reports checking_local/download/verify/quarantine. */
  acquire(target: ModelTarget, onPhase: (phase: LoadPhase) => void, signal: AbortSignal): Promise<AcquiredModel>;
  /**
   * Refuses a reload target the caller got wrong (`model_not_found`, `model_invalid`) while the
   * current model still serves, before anything is published. Optional: no check when absent.
   */
  check?(target: ModelTarget, signal: AbortSignal): Promise<void>;
  /** Loads the file into an engine; reports mmap and kv_cache. */
  load(model: AcquiredModel, onPhase: (phase: LoadPhase) => void, signal: AbortSignal): Promise<Engine>;
}

export interface ReloadOutcome {
  ok: boolean;
  /** Path now being served. */
  path: string;
  message?: string;
}

export class Lifecycle implements EngineHolder {
  readonly bus: StatusBus;
  #state: LifecycleState = 'starting';
  #engine: Engine | null = null;
  #target: ModelTarget;
  #model: AcquiredModel | null = null;
  #cancel = new AbortController();
  /** Aborts downloads and loads in progress when the daemon shuts down. */
  readonly #shutdown = new AbortController();
  readonly #options: LifecycleOptions;
  /** A reload's target is being checked (the state is still `ready`). */
  #checking = false;

  constructor(options: LifecycleOptions) {
    this.#options = options;
    this.bus = options.bus;
    this.#target = options.target;
  }

  get state(): LifecycleState {
    return this.#state;
  }

  get engine(): Engine | null {
    return this.#engine;
  }

  get cancelSignal(): AbortSignal {
    return this.#cancel.signal;
  }

  current(): Engine | InferdError {
    if (this.#state === 'ready' && this.#engine) return this.#engine;
    const messages: Record<LifecycleState, string> = {
      starting: 'the model is not loaded yet',
      loading: 'the model is loading',
      ready: 'the model is not loaded',
      restarting: 'the model is reloading',
      draining: 'the daemon is shutting down',
      failed: 'the model failed to load',
      stopped: 'the daemon has stopped',
    };
    const retryAfter = this.#state === 'failed' || this.#state === 'stopped' ? undefined : this.#state === 'draining' ? 5 : 2;
    return new InferdError('backend_unavailable', messages[this.#state], retryAfter === undefined ? {} : { retryAfter });
  }

  /** Bring-up. On failure publishes `failed{message}` and rejects; the caller exits non-zero. */
  async start(): Promise<void> {
    if (this.#state !== 'starting') throw new InferdError('internal', `start() called while ${this.#state}`);
    this.#state = 'loading';
    const publish = (phase: LoadPhase) => this.bus.publish({ status: 'loading_model', ...phase });
    try {
      const model = await this.#options.acquire(this.#target, publish, this.#shutdown.signal);
      const engine = await this.#options.load(model, publish, this.#shutdown.signal);
      await this.#becomeReady(engine, model, 'start');
    } catch (err) {
      const error = toInferdError(err);
      if (this.#state === 'loading' || this.#state === 'ready') {
        this.#state = 'failed';
        this.bus.publish({ status: 'failed', message: error.message });
      }
      throw error;
    }
  }

  /**
   * Reloads the model (the same one, or `target` when given). New requests get 503 while
   * in-flight ones finish (up to the drain timeout). The new file is fetched and checked while
   * the old model still serves; if loading it fails, the old model is loaded again.
   */
  async reload(target?: ModelTarget): Promise<ReloadOutcome> {
    if (this.#state !== 'ready' || !this.#engine || !this.#model || this.#checking) {
      throw new InferdError('conflict', `cannot reload while the daemon is ${this.#checking ? 'checking another reload' : this.#state}`);
    }
    if (target !== undefined && this.#options.check) {
      // A bad file named by the caller is refused here: no `restarting`, no drain, nothing lost.
      this.#checking = true;
      try {
        await this.#options.check(target, this.#shutdown.signal);
      } finally {
        this.#checking = false;
      }
      if (this.#state !== 'ready' || !this.#engine || !this.#model) {
        throw new InferdError('conflict', `cannot reload while the daemon is ${this.#state}`);
      }
    }
    const previous = { engine: this.#engine, model: this.#model, target: this.#target };
    const nextTarget = target ?? this.#target;
    this.#state = 'restarting';
    this.#options.readyGated?.close();
    // A shutdown may begin at any await below: from then on the drain owns the state and the
    // stream, so the reload publishes nothing more and stops at the next step.
    const publish = (phase: RestartPhase) => {
      if (this.#state === 'restarting') this.bus.publish({ status: 'restarting', ...phase });
    };
    const unlessShuttingDown = () => {
      if (this.#shutdown.signal.aborted) throw this.#shutdown.signal.reason;
    };
    this.#options.log.info({ target: describeTarget(nextTarget) }, 'reload requested');
    try {
      publish({ phase: 'drain', in_flight: this.#options.admission.inFlight });
      await this.#waitForInFlight();
      unlessShuttingDown();
      const model = await this.#options.acquire(nextTarget, publish, this.#shutdown.signal);
      unlessShuttingDown();
      this.#engine = null;
      await previous.engine.close();
      const engine = await this.#options.load(model, publish, this.#shutdown.signal);
      if (this.#shutdown.signal.aborted) {
        await engine.close();
        unlessShuttingDown();
      }
      this.#target = nextTarget;
      await this.#becomeReady(engine, model, 'reload');
      return { ok: true, path: model.path };
    } catch (err) {
      if (this.#shutdown.signal.aborted) throw toInferdError(err);
      const message = toInferdError(err).message;
      this.#options.log.warn({ err: message }, 'reload failed; going back to the previous model');
      publish({ phase: 'rollback', message });
      if (this.#engine === null) {
        // The old engine was already closed: load it again. If even that fails, give up.
        try {
          this.#engine = await this.#options.load(previous.model, publish, this.#shutdown.signal);
        } catch (again) {
          this.#state = 'failed';
          const failure = `reload failed (${message}) and the previous model could not be loaded again: ${toInferdError(again).message}`;
          this.bus.publish({ status: 'failed', message: failure });
          throw new InferdError('reload_failed', failure, { cause: again });
        }
      }
      await this.#becomeReady(this.#engine, previous.model, 'reload');
      return { ok: false, path: previous.model.path, message };
    }
  }

  /**
   * Shutdown step one: publish `draining`, refuse new work, let in-flight requests finish up
   * to the drain timeout, then cancel the rest (they end with stop_reason `cancelled`).
   */
  async drain(): Promise<void> {
    if (this.#state === 'draining' || this.#state === 'stopped') return;
    if (this.#state === 'failed') {
      // A failed daemon ends at `failed` (contract §9.2): nothing to drain, nothing to announce.
      this.#shutdown.abort(new InferdError('backend_unavailable', 'the daemon is shutting down'));
      return;
    }
    const wasServing = this.#state === 'ready' || this.#state === 'restarting';
    this.#state = 'draining';
    this.#options.readyGated?.close();
    this.#shutdown.abort(new InferdError('backend_unavailable', 'the daemon is shutting down'));
    this.bus.publish({ status: 'draining' });
    if (wasServing) await this.#waitForInFlight();
  }

  /** Shutdown step two: unload the model and end every admin stream (after `draining`, EOF). */
  async close(): Promise<void> {
    this.#state = 'stopped';
    this.#options.readyGated?.close();
    this.#cancel.abort(new InferdError('backend_unavailable', 'the daemon stopped'));
    const engine = this.#engine;
    this.#engine = null;
    await engine?.close();
    this.bus.close();
  }

  async #becomeReady(engine: Engine, model: AcquiredModel, after: 'start' | 'reload'): Promise<void> {
    this.#engine = engine;
    this.#model = model;
    this.bus.publish({ status: 'capabilities', ...engine.capabilities });
    this.#state = 'ready';
    const gated = this.#options.readyGated;
    if (gated) {
      // State first, then the transport, then `ready`: a client that connects the moment the
      // socket exists is already served (the reference published first and raced, §9.3).
      try {
        await gated.open();
      } catch (err) {
        if (after === 'start') throw err;
        this.#options.log.error({ err: toInferdError(err).message }, 'a ready-gated transport failed to open after the reload; serving without it');
      }
      if (this.#state !== 'ready') return; // a drain began meanwhile
    }
    this.bus.publish({ status: 'ready' });
    this.#options.log.info({ model: model.path, n_ctx: engine.info.nCtx, threads: engine.info.threads }, 'ready');
  }

  /** Waits for in-flight requests; past the drain timeout, cancels them and waits for them to end. */
  async #waitForInFlight(): Promise<void> {
    const { admission, drainTimeoutMs } = this.#options;
    if (admission.inFlight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      admission.whenIdle().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), drainTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
    this.#options.log.warn({ in_flight: admission.inFlight, drain_timeout_ms: drainTimeoutMs }, 'drain timeout: cancelling in-flight requests');
    admission.rejectQueued(new InferdError('backend_unavailable', 'cancelled by the drain timeout'));
    const cancel = this.#cancel;
    this.#cancel = new AbortController();
    cancel.abort(new InferdError('backend_unavailable', 'cancelled by the drain timeout'));
    await admission.whenIdle();
  }
}

function describeTarget(target: ModelTarget): string {
  if (target === undefined) return 'built-in demo model';
  return 'path' in target ? target.path : target.name;
}
