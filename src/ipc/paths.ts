// Where the Unix-socket endpoints live (contract §1.8). The algorithm is frozen so that clients
// compute the same paths as the daemon:
//   $XDG_RUNTIME_DIR/inferd/<leaf>   if XDG_RUNTIME_DIR is set and non-empty
//   $HOME/.inferd/run/<leaf>         else if HOME is set and non-empty
//   /tmp/inferd-<uid>/<leaf>         else (uid = effective uid)
// `runtime_dir`, `admin_addr` and `infer_addr` (config file, INFERD_* env, --flags) override it.
import { join, resolve } from 'node:path';
import type { InferdConfig } from '../config/schema.js';

export const ADMIN_LEAF = 'admin.sock';
export const INFER_LEAF = 'infer.sock';
export const LOCK_LEAF = 'inferd.lock';

/** Linux sun_path is 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

export interface EndpointEnv {
  XDG_RUNTIME_DIR?: string | undefined;
  HOME?: string | undefined;
}

export interface Endpoints {
  /** Holds the lock, and both sockets unless their paths are overridden. */
  runtimeDir: string;
  /** True when runtimeDir came from the algorithm (the daemon owns it and may tighten its mode). */
  runtimeDirDefault: boolean;
  admin: string;
  infer: string;
  lock: string;
}

/** The default runtime directory for this environment and effective uid. */
export function defaultRuntimeDir(env: EndpointEnv, uid: number): string {
  if (env.XDG_RUNTIME_DIR) return resolve(env.XDG_RUNTIME_DIR, 'inferd');
  if (env.HOME) return resolve(env.HOME, '.inferd', 'run');
  return `/tmp/inferd-${uid}`;
}

/** The effective uid; -1 where there is none (not POSIX). */
export function effectiveUid(): number {
  return typeof process.geteuid === 'function' ? process.geteuid() : -1;
}

/**
 * Every endpoint path for `config`. The lock always sits in the runtime directory: it guards
 * that directory, so two daemons need two runtime directories (`--runtime-dir`).
 */
export function resolveEndpoints(
  config: Pick<InferdConfig, 'runtime_dir' | 'admin_addr' | 'infer_addr'>,
  env: EndpointEnv = process.env,
  uid: number = effectiveUid(),
): Endpoints {
  const runtimeDir = config.runtime_dir !== undefined ? resolve(config.runtime_dir) : defaultRuntimeDir(env, uid);
  return {
    runtimeDir,
    runtimeDirDefault: config.runtime_dir === undefined,
    admin: config.admin_addr !== undefined ? resolve(config.admin_addr) : join(runtimeDir, ADMIN_LEAF),
    infer: config.infer_addr !== undefined ? resolve(config.infer_addr) : join(runtimeDir, INFER_LEAF),
    lock: join(runtimeDir, LOCK_LEAF),
  };
}
