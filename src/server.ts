// The process around the Daemon: logger, signals and the exit code. The only module that
// decides how the process ends; `inferd serve` exits with what runServer returns.
import type { InferdConfig } from './config/schema.js';
import { Daemon } from './daemon.js';
import { isInferdError, toInferdError } from './errors.js';
import { checkBind } from './guard/bind-policy.js';
import { mallocPlan } from './cli/malloc-env.js';
import { createModelSource } from './lifecycle/model-source.js';
import { createLogger } from './log/logger.js';

export async function runServer(config: InferdConfig): Promise<number> {
  const log = createLogger(config);
  // The llama.cpp runtime loads while the app is built and bound (see ModelSource.prepare).
  const source = createModelSource(config, log);
  source.prepare?.();
  let daemon: Daemon;
  try {
    daemon = await Daemon.create(config, { log, source });
  } catch (err) {
    await source.close();
    // An unreadable api_keys_file or a bad trust_proxy entry: a configuration error.
    if (!isInferdError(err) || err.code !== 'config_invalid') throw err;
    process.stderr.write(`inferd: ${err.message}\n`);
    return 2;
  }
  const bind = checkBind(config, daemon.app.guard.keys.enabled);
  if (!bind.ok) {
    process.stderr.write(`inferd: ${bind.message}\n`);
    await daemon.shutdown();
    return 2;
  }
  let exitCode = 0;
  let stopping: Promise<void> | null = null;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const stop = (): Promise<void> => {
    stopping ??= daemon
      .shutdown()
      .catch((err: unknown) => {
        log.error({ err }, 'error during shutdown');
        exitCode = exitCode || 1;
      })
      .finally(stopped);
    return stopping;
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal means "now": skip the drain.
      process.stderr.write(`inferd: ${signal} again, exiting now\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    log.info({ signal }, 'shutting down: draining in-flight requests');
    void stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', () => {
    // SIGHUP re-reads api_keys_file (even while not ready: revoking a key must not wait).
    try {
      daemon.app.guard.keys.reloadFile();
      log.info({ keys: daemon.app.guard.keys.counts() }, 'API keys re-read');
    } catch (err) {
      log.error({ err }, 'API keys not re-read; the previous keys stay in force');
    }
    if (daemon.lifecycle.state !== 'ready') {
      log.warn({ state: daemon.lifecycle.state }, 'SIGHUP ignored: the daemon is not ready');
      return;
    }
    daemon.lifecycle.reload().catch((err: unknown) => log.error({ err }, 'reload failed'));
  });

  try {
    const url = await daemon.listen();
    log.info({ url }, 'listening');
    // Where the CLI could not re-execute with the setting (Node before 22.15), say how to set it.
    const malloc = mallocPlan(['serve'], process.env, process.platform, false);
    if (malloc.action === 'hint') log.info(malloc.message);
    if (bind.warning) log.warn({ host: config.host }, bind.warning);
    else if (daemon.app.guard.keys.enabled) log.info({ keys: daemon.app.guard.keys.counts() }, 'API keys required beyond /healthz and /readyz');
  } catch (err) {
    // The lock and socket errors name their path; anything else came from the HTTP bind.
    const lockOrSocket = isInferdError(err) && (err.code === 'lock_held' || err.code === 'socket_error');
    process.stderr.write(`inferd: ${lockOrSocket ? '' : `cannot listen on ${config.host}:${config.port}: `}${(err as Error).message}\n`);
    await stop();
    return 1;
  }

  // A reload whose rollback also failed leaves nothing to serve: exit so a supervisor restarts us.
  let started = false;
  daemon.lifecycle.bus.waitForStatus('failed').then(
    (record) => {
      if (!started || stopping) return;
      process.stderr.write(`inferd: ${(record.event as { message: string }).message}\n`);
      exitCode = 1;
      void stop();
    },
    () => {}, // the bus closed first: a normal shutdown
  );

  try {
    await daemon.start();
    started = true;
  } catch (err) {
    if (!stopping) {
      process.stderr.write(`inferd: model bring-up failed: ${toInferdError(err).message}\n`);
      exitCode = 1;
      void stop();
    }
  }
  // Serving now; a signal (or the failure above) starts the shutdown this waits for.
  await done;
  return exitCode;
}
