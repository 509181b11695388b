// The daemon as an object: every service wired together, listening, bringing the model up and
// shutting down in order. server.ts adds the process concerns (signals, exit codes); tests use
// this directly to run a real daemon on a real port inside the test process.
import { resolve } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { Admission } from './admission/admission.js';
import type { Engine } from './engine/engine.js';
import { buildApp } from './app.js';
import type { InferdConfig } from './config/schema.js';
import { InferenceGate } from './inference/gate.js';
import { UnixSockets } from './ipc/unix-sockets.js';
import { Lifecycle, type LifecycleOptions } from './lifecycle/lifecycle.js';
import { createModelSource, type ModelSource } from './lifecycle/model-source.js';
import { Metrics } from './metrics/metrics.js';
import { StatusBus } from './status/bus.js';

export interface DaemonOptions {
  log: FastifyBaseLogger;
  /** Replaces how models are found and loaded (tests inject faults; server.ts passes one it prepared). */
  source?: ModelSource;
}

export class Daemon {
  readonly config: InferdConfig;
  readonly app: FastifyInstance;
  readonly lifecycle: Lifecycle;
  readonly gate: InferenceGate;
  readonly metrics: Metrics;
  readonly log: FastifyBaseLogger;
  /** admin.sock and infer.sock; null when `unix_sockets` is off. */
  readonly sockets: UnixSockets | null;
  readonly #source: ModelSource;
  #stopping: Promise<void> | null = null;

  private constructor(config: InferdConfig, app: FastifyInstance, lifecycle: Lifecycle, gate: InferenceGate, metrics: Metrics, source: ModelSource, log: FastifyBaseLogger, sockets: UnixSockets | null) {
    this.config = config;
    this.sockets = sockets;
    this.app = app;
    this.lifecycle = lifecycle;
    this.gate = gate;
    this.metrics = metrics;
    this.#source = source;
    this.log = log;
  }

  static async create(config: InferdConfig, options: DaemonOptions): Promise<Daemon> {
    const { log } = options;
    const bus = new StatusBus();
    const admission = new Admission({ slots: config.parallel, queueDepth: config.queue_depth });
    const metrics = new Metrics();
    const source = options.source ?? createModelSource(config, log);
    let sockets: UnixSockets | null = null;
    const lifecycleOptions: LifecycleOptions = {
      bus,
      // infer.sock exists only while ready (contract §1.9).
      readyGated: { open: async () => sockets?.openInfer(), close: () => sockets?.closeInfer() },
      admission,
      log,
      drainTimeoutMs: config.drain_timeout_ms,
      target: config.model,
      acquire: source.acquire,
      ...(source.check ? { check: source.check } : {}),
      load: source.load,
    };
    const lifecycle = new Lifecycle(lifecycleOptions);
    const gate = new InferenceGate(lifecycle, admission);
    sockets = config.unix_sockets ? new UnixSockets({ config, bus, gate, metrics, log }) : null;
    registerGauges(metrics, lifecycle, admission);
    admission.onAdmitted((seconds) => metrics.queueWait(seconds));
    const app = await buildApp({ config, lifecycle, gate, metrics }, { loggerInstance: log });
    return new Daemon(config, app, lifecycle, gate, metrics, source, log, sockets);
  }

  /**
   * Takes the single-instance lock and binds admin.sock, then listens on HTTP; all before any
   * model work, so both status streams answer from the start. Nothing is bound without the lock.
   */
  async listen(): Promise<string> {
    await this.sockets?.open();
    return this.app.listen({ host: this.config.host, port: this.config.port });
  }

  get port(): number {
    const address = this.app.server.address();
    return typeof address === 'object' && address ? address.port : this.config.port;
  }

  /** Brings the model up; rejects (after publishing `failed`) when that fails. */
  async start(): Promise<void> {
    await this.lifecycle.start();
  }

  /**
   * Graceful stop: `draining` (infer.sock is removed), in-flight requests finish (up to
   * drain_timeout_ms) on HTTP and infer.sock alike, then HTTP closes, the model unloads, admin
   * streams get EOF, admin.sock is removed and the lock released. Safe to call more than once.
   */
  shutdown(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.lifecycle.drain();
      await this.sockets?.endInferSessions();
      await this.app.close();
      await this.lifecycle.close();
      await this.#source.close();
      await this.sockets?.close();
    })();
    return this.#stopping;
  }
}

function registerGauges(metrics: Metrics, lifecycle: Lifecycle, admission: Admission): void {
  metrics.addGauges(() => {
    const stats = admission.stats();
    const bus = lifecycle.bus.stats();
    const engine = lifecycle.engine;
    return [
      { name: 'inferd_ready', help: '1 when the model is loaded and serving', value: lifecycle.state === 'ready' ? 1 : 0 },
      { name: 'inferd_slots', help: 'Requests that can generate at once', value: stats.slots },
      { name: 'inferd_queue_capacity', help: 'Requests that may wait for a slot', value: stats.queueDepth },
      { name: 'inferd_requests_active', help: 'Requests holding a slot', value: stats.active },
      { name: 'inferd_requests_queued', help: 'Requests waiting for a slot', value: stats.queued },
      { name: 'inferd_queue_rejected_total', help: 'Requests refused with queue_full', value: stats.rejectedTotal },
      { name: 'inferd_admin_subscribers', help: 'Open admin status streams', value: bus.subscribers },
      { name: 'inferd_admin_lagged_total', help: 'Admin subscribers cut off for falling behind', value: bus.laggedDisconnects },
      { name: 'inferd_status_events_total', help: 'Lifecycle events published', value: bus.published },
      ...decodeRoundGauges(engine),
      ...(engine
        ? [
            {
              name: 'inferd_model_info',
              help: 'The loaded model',
              value: 1,
              labels: { path: resolve(engine.info.modelPath), name: engine.info.modelName, n_ctx: String(engine.info.nCtx) },
            },
          ]
        : []),
    ];
  });
}

/** Counters of the engine's shared decode rounds (parallel streams evaluated together). */
function decodeRoundGauges(engine: Engine | null): Array<{ name: string; help: string; value: number }> {
  const rounds = engine?.decodeRounds?.();
  if (!rounds) return [];
  return [
    { name: 'inferd_decode_rounds_total', help: 'Token-generation rounds: parallel streams evaluated in one shared decode', value: rounds.rounds },
    { name: 'inferd_decode_round_tokens_total', help: 'Tokens evaluated in shared rounds (over inferd_decode_rounds_total: streams per decode)', value: rounds.tokens },
    { name: 'inferd_decode_round_deadline_total', help: 'Rounds started by the deadline before every running stream had its token', value: rounds.deadlineRounds },
  ];
}
