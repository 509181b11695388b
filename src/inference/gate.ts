// The way into the engine for every transport: readiness, then admission, then a lease on the
// engine that was serving when the request was accepted. Transports never see node-llama-cpp.
import { Admission } from '../admission/admission.js';
import type { Engine } from '../engine/engine.js';
import { InferdError } from '../errors.js';
import { linkSignals } from '../linked-signal.js';

/** What the gate needs to know about the daemon's state. The lifecycle implements it. */
export interface EngineHolder {
  /** The engine to hand out, or an error explaining why there is none right now. */
  current(): Engine | InferdError;
  /** Fires when every request leased so far must stop (a drain or reload deadline passed). */
  readonly cancelSignal: AbortSignal;
}

/** A slot held on a particular engine. Release exactly once (extra calls are ignored). */
export interface Lease {
  readonly engine: Engine;
  /** Aborts when the client goes away or the daemon cancels everything. */
  readonly signal: AbortSignal;
  release(): void;
}

export class InferenceGate {
  readonly admission: Admission;
  readonly #holder: EngineHolder;

  constructor(holder: EngineHolder, admission: Admission) {
    this.#holder = holder;
    this.admission = admission;
  }

  /** Fails fast with backend_unavailable (not ready) or queue_full; otherwise waits for a slot. */
  readyEngine(): Engine {
    const engine = this.#holder.current();
    if (engine instanceof InferdError) throw engine;
    return engine;
  }

  async lease(clientSignal: AbortSignal): Promise<Lease> {
    // The engine is chosen before queueing: a request accepted before a reload started runs on
    // the model that accepted it, which stays loaded until the in-flight work is done.
    const engine = this.readyEngine();
    const permit = await this.admission.acquire(clientSignal);
    const link = linkSignals([clientSignal, this.#holder.cancelSignal]);
    return {
      engine,
      signal: link.signal,
      release: () => {
        link.unlink();
        permit.release();
      },
    };
  }
}
