// A real daemon inside the test process: real HTTP on a free port, the real engine, the tiny
// demo model. Shut down at the end of the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import type { Test } from 'tap';
import { loadConfig } from '../../src/config/load.js';
import type { InferdConfig } from '../../src/config/schema.js';
import { Daemon } from '../../src/daemon.js';
import type { ModelSource } from '../../src/lifecycle/model-source.js';
import { demoModelPath } from './demo-model.js';

export interface TestDaemon {
  daemon: Daemon;
  url: string;
  config: InferdConfig;
}

export interface StartOptions {
  /** Bring the model up before returning (default true). */
  start?: boolean;
  source?: ModelSource;
  /** The daemon's logger (default: silent, or INFERD_TEST_LOG's level). */
  log?: FastifyBaseLogger;
}

/** A config for tests: loopback, a free port, a private store, the tiny demo model, 1 thread. */
export async function testConfig(overrides: Partial<InferdConfig> = {}): Promise<InferdConfig> {
  const home = mkdtempSync(join(tmpdir(), 'inferd-test-home-'));
  const { config } = loadConfig({ env: {}, home });
  const made: InferdConfig = {
    ...config,
    port: 0,
    models_home: join(home, 'models'),
    runtime_dir: join(home, 'run'),
    model: { path: await demoModelPath('tiny') },
    threads: 1,
    log_level: 'silent',
    ...overrides,
  };
  homes.set(made, home);
  unremoved.add(home);
  return made;
}

/** The temp home testConfig made for each config, removed by startDaemon's teardown. */
const homes = new WeakMap<InferdConfig, string>();
/**
 * Homes not yet removed. Some tests call testConfig without startDaemon (they build their own
 * Daemon); their homes go when the test process exits, so the run leaves nothing in the temp dir.
 */
const unremoved = new Set<string>();
process.on('exit', () => unremoved.forEach((home) => rmSync(home, { recursive: true, force: true })));

export async function startDaemon(t: Test, overrides: Partial<InferdConfig> = {}, options: StartOptions = {}): Promise<TestDaemon> {
  const config = await testConfig(overrides);
  const log = options.log ?? pino({ level: process.env.INFERD_TEST_LOG ?? 'silent' });
  const daemon = await Daemon.create(config, { log, ...(options.source ? { source: options.source } : {}) });
  t.teardown(async () => {
    await daemon.shutdown();
    // testConfig's temp home holds the store and the sockets: remove it once the daemon is gone.
    const home = homes.get(config);
    if (home) {
      await rm(home, { recursive: true, force: true });
      unremoved.delete(home);
    }
  });
  await daemon.listen();
  if (options.start ?? true) await daemon.start();
  return { daemon, url: `http://127.0.0.1:${daemon.port}`, config };
}
