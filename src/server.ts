// The process: wires the services, listens, brings the model up, handles signals. The only
// place that decides exit codes; the CLI's `serve` calls runServer and exits with its result.
import { resolve } from 'node:path';
import { pino } from 'pino';
import { Admission } from './admission/admission.js';
import { buildApp } from './app.js';
import type { InferdConfig } from './config/schema.js';
import { toInferdError } from './errors.js';
import { InferenceGate } from './inference/gate.js';
import { Lifecycle } from './lifecycle/lifecycle.js';
import { createModelSource } from './lifecycle/model-source.js';
import { Metrics } from './metrics/metrics.js';
import { StatusBus } from './status/bus.js';

export async function runServer(config: InferdConfig): Promise<number> {
  const log = pino({ level: config.log_level, name: 'inferd' }, pino.destination(2));
  const bus = new StatusBus();
  const admission = new Admission({ slots: config.parallel, queueDepth: config.queue_depth });
  const metrics = new Metrics();
  const source = createModelSource(config, log);
  const lifecycle = new Lifecycle({
    bus,
    admission,
    log,
    drainTimeoutMs: config.drain_timeout_ms,
    target: config.model,
    acquire: source.acquire,
    load: source.load,
  });
  const gate = new InferenceGate(lifecycle, admission);
  registerGauges(metrics, lifecycle, admission);
  const app = await buildApp({ config, lifecycle, gate, metrics }, { loggerInstance: log });

  let shuttingDown = false;
  let exitCode = 0;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((res) => {
    resolveStopped = res;
  });

  const shutdown = async (why: string): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    app.log.info({ why }, 'draining');
    try {
      await lifecycle.drain();
      await app.close();
      await lifecycle.close();
      await source.close();
    } catch (err) {
      app.log.error({ err }, 'error during shutdown');
      exitCode = exitCode || 1;
    }
    resolveStopped();
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      // A second signal means "now": skip the drain.
      process.stderr.write(`inferd: ${signal} again, exiting now\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    void shutdown(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => {
    if (lifecycle.state !== 'ready') {
      app.log.warn({ state: lifecycle.state }, 'SIGHUP ignored: not ready');
      return;
    }
    lifecycle.reload().catch((err: unknown) => app.log.error({ err }, 'reload failed'));
  });

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    process.stderr.write(`inferd: cannot listen on ${config.host}:${config.port}: ${(err as Error).message}\n`);
    await source.close();
    return 1;
  }

  try {
    await lifecycle.start();
  } catch (err) {
    if (!shuttingDown) {
      const message = toInferdError(err).message;
      process.stderr.write(`inferd: model bring-up failed: ${message}\n`);
      exitCode = 1;
      await shutdown('bring-up failed');
    }
  }
  await stopped;
  return exitCode;
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
      ...(engine
        ? [{ name: 'inferd_model_info', help: 'The loaded model', value: 1, labels: { model: resolve(engine.info.modelPath), name: engine.info.modelName, n_ctx: String(engine.info.nCtx) } }]
        : []),
    ];
  });
}
