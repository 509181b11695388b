// The Unix-socket shim as one owner: the single-instance lock, the runtime directory, admin.sock
// (bound at start, before any model work) and infer.sock (bound only while the daemon is ready).
//
// Order at start: runtime dir (0700) → inferd.lock → admin.sock. Nothing is bound before the
// lock is held, so a second daemon cannot unlink the first one's sockets (two starters racing
// for stale-socket cleanup is the classic failure). Order at stop: infer.sock is already gone
// (draining), open inference connections end, then admin clients get `draining` and EOF, the
// socket files are removed and the lock is released last.
import type net from 'node:net';
import type { InferdConfig } from '../config/schema.js';
import { InferdError } from '../errors.js';
import type { InferenceGate } from '../inference/gate.js';
import type { LifecycleLog } from '../lifecycle/lifecycle.js';
import type { Metrics } from '../metrics/metrics.js';
import type { StatusBus } from '../status/bus.js';
import type { HeldLock } from '../store/lock.js';
import { serveAdminSession } from './admin-socket.js';
import { InferSession } from './infer-socket.js';
import { acquireInstanceLock } from './instance-lock.js';
import { resolveEndpoints, type EndpointEnv, type Endpoints } from './paths.js';
import { ensureParentDir, prepareRuntimeDir } from './runtime-dir.js';
import { clearSocketPath, UnixListener } from './unix-listener.js';

export const ADMIN_SOCKET_MODE = 0o600;
export const INFER_SOCKET_MODE = 0o660;
/** How long stop waits for connections to finish their last frames before dropping them. */
export const CLOSE_GRACE_MS = 2000;

export interface UnixSocketsOptions {
  config: Pick<InferdConfig, 'runtime_dir' | 'admin_addr' | 'infer_addr' | 'write_timeout_ms'>;
  bus: StatusBus;
  gate: InferenceGate;
  metrics: Metrics;
  log: LifecycleLog;
  /** For tests of the path algorithm; default process.env. */
  env?: EndpointEnv;
}

export interface UnixSocketsStats {
  adminConnections: number;
  inferConnections: number;
  inferListening: boolean;
}

export class UnixSockets {
  readonly endpoints: Endpoints;
  readonly #options: UnixSocketsOptions;
  #lock: HeldLock | null = null;
  #admin: UnixListener | null = null;
  #infer: UnixListener | null = null;
  /** Whether infer.sock should exist (the daemon is ready); checked again after every await. */
  #inferWanted = false;
  #inferChain: Promise<void> = Promise.resolve();
  readonly #adminDone = new Set<Promise<unknown>>();
  readonly #inferSessions = new Map<InferSession, Promise<void>>();

  constructor(options: UnixSocketsOptions) {
    this.#options = options;
    this.endpoints = resolveEndpoints(options.config, options.env ?? process.env);
  }

  stats(): UnixSocketsStats {
    return {
      adminConnections: this.#adminDone.size,
      inferConnections: this.#inferSessions.size,
      inferListening: this.#infer?.listening ?? false,
    };
  }

  /** Runtime dir, lock, admin.sock. Throws `lock_held` or `socket_error` with the path in the message. */
  async open(): Promise<void> {
    const { endpoints } = this;
    const { log, config } = this.#options;
    if (endpoints.admin === endpoints.infer) {
      throw new InferdError('socket_error', `admin.sock and infer.sock cannot share one path (${endpoints.admin})`, { detail: { path: endpoints.admin } });
    }
    await prepareRuntimeDir(endpoints.runtimeDir, endpoints.runtimeDirDefault);
    this.#lock = await acquireInstanceLock(endpoints.lock);
    try {
      // A bad infer path (a symlink, a file, another process's live socket) fails now rather
      // than after a model load, and a stale infer.sock left by a crash is gone before anyone
      // could mistake it for readiness.
      await ensureParentDir(endpoints.infer);
      await clearSocketPath(endpoints.infer);
      await ensureParentDir(endpoints.admin);
      const admin = new UnixListener({
        path: endpoints.admin,
        mode: ADMIN_SOCKET_MODE,
        allowHalfOpen: false,
        onConnection: (socket) => this.#acceptAdmin(socket),
        onError: (err) => log.error({ err: err.message, path: endpoints.admin }, 'admin.sock listener error'),
      });
      await admin.listen();
      this.#admin = admin;
    } catch (err) {
      await this.#releaseLock();
      throw err;
    }
    log.info({ admin: endpoints.admin, infer: endpoints.infer, lock: endpoints.lock }, 'admin.sock listening; infer.sock follows once ready');
    if (config.write_timeout_ms === 0) log.warn({}, 'write_timeout_ms is 0: a client that stops reading can hold a slot forever');
    else log.info({ write_timeout_ms: config.write_timeout_ms }, 'response write timeout configured');
  }

  /** Binds infer.sock (the lifecycle calls this before publishing `ready`). */
  openInfer(): Promise<void> {
    if (this.#admin === null) return Promise.resolve(); // not opened (or unix sockets off)
    this.#inferWanted = true;
    const next = this.#inferChain.then(() => this.#bindInfer());
    this.#inferChain = next.catch(() => undefined);
    return next;
  }

  /**
   * Removes infer.sock at once (the lifecycle calls this when `restarting` or `draining`
   * begins): new connections fail with ENOENT, idle connections are closed, and a connection
   * with a request in flight closes after that request's terminal frame.
   */
  closeInfer(): void {
    this.#inferWanted = false;
    this.#infer?.close();
    this.#infer = null;
    for (const session of this.#inferSessions.keys()) session.close();
  }

  /** Waits (bounded) for inference connections to end, then drops what is left. */
  async endInferSessions(graceMs = CLOSE_GRACE_MS): Promise<void> {
    this.closeInfer();
    if (await settleWithin([...this.#inferSessions.values()], graceMs)) return;
    for (const session of this.#inferSessions.keys()) session.destroy();
    await settleWithin([...this.#inferSessions.values()], graceMs);
  }

  /**
   * Stops admin.sock. Admin clients get what is queued (after a bus close: `draining`, then
   * EOF) within the grace period, then are dropped; the files are removed and the lock released.
   */
  async close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    await this.endInferSessions(graceMs);
    const admin = this.#admin;
    this.#admin = null;
    if (admin) {
      admin.close();
      if (!(await settleWithin([...this.#adminDone], graceMs))) admin.destroyAll();
      await settleWithin([...this.#adminDone], graceMs);
    }
    await this.#releaseLock();
  }

  async #bindInfer(): Promise<void> {
    if (!this.#inferWanted || this.#infer !== null) return;
    const { log } = this.#options;
    const path = this.endpoints.infer;
    await ensureParentDir(path);
    const listener = new UnixListener({
      path,
      mode: INFER_SOCKET_MODE,
      // Clients that send EOF after their request (nc -N, socat) still get the whole answer.
      allowHalfOpen: true,
      onConnection: (socket) => this.#acceptInfer(socket),
      onError: (err) => log.error({ err: err.message, path }, 'infer.sock listener error'),
    });
    this.#infer = listener;
    try {
      await listener.listen();
    } catch (err) {
      if (this.#infer === listener) this.#infer = null;
      if (!this.#inferWanted) return; // closed while binding: that is what was asked for
      throw err;
    }
    if (!this.#inferWanted && this.#infer === listener) {
      this.#infer = null;
      listener.close();
    }
  }

  #acceptAdmin(socket: net.Socket): void {
    const done = serveAdminSession(socket, { bus: this.#options.bus, writeTimeoutMs: this.#options.config.write_timeout_ms, log: this.#options.log });
    this.#adminDone.add(done);
    void done.finally(() => this.#adminDone.delete(done));
  }

  #acceptInfer(socket: net.Socket): void {
    const { gate, metrics, config } = this.#options;
    const session = new InferSession(socket, { gate, metrics, writeTimeoutMs: config.write_timeout_ms, log: this.#options.log });
    if (!this.#inferWanted) {
      socket.destroy(); // accepted in the same tick the listener closed
      return;
    }
    const done = session.run();
    this.#inferSessions.set(session, done);
    void done.finally(() => this.#inferSessions.delete(session));
  }

  async #releaseLock(): Promise<void> {
    const lock = this.#lock;
    this.#lock = null;
    await lock?.release();
  }
}

/** Resolves true when every promise settled within `ms`, false on timeout. */
async function settleWithin(promises: Array<Promise<unknown>>, ms: number): Promise<boolean> {
  if (promises.length === 0) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
