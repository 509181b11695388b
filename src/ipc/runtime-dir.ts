// The directories the sockets live in. The runtime directory is created 0700: a socket inside a
// private directory cannot be reached by others even in the moment between bind() and chmod()
// (reliability-anchors "Socket file permissions"), which no umask trick fully closes.
import { chmod, lstat, mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InferdError } from '../errors.js';
import { effectiveUid } from './paths.js';

export const RUNTIME_DIR_MODE = 0o700;

function refuse(message: string, path: string): InferdError {
  return new InferdError('socket_error', message, { detail: { path } });
}

/**
 * Creates the runtime directory (0700) if missing. A directory the algorithm chose (`owned`) is
 * the daemon's own: it must be a real directory (not a symlink: /tmp/inferd-<uid> could be
 * planted by another user) owned by our uid, and its mode is tightened to 0700. A directory the
 * operator named with --runtime-dir is used as it is, once it exists and is a directory.
 */
export async function prepareRuntimeDir(dir: string, owned: boolean): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: RUNTIME_DIR_MODE });
  } catch (err) {
    throw refuse(`cannot create the runtime directory ${dir}: ${(err as Error).message}`, dir);
  }
  if (!owned) {
    if (!(await stat(dir)).isDirectory()) throw refuse(`runtime directory ${dir} is not a directory`, dir);
    return;
  }
  const st = await lstat(dir);
  if (st.isSymbolicLink()) throw refuse(`runtime directory ${dir} is a symlink (refused); remove it or set --runtime-dir`, dir);
  if (!st.isDirectory()) throw refuse(`runtime directory ${dir} is not a directory`, dir);
  const uid = effectiveUid();
  if (uid >= 0 && st.uid !== uid) {
    throw refuse(`runtime directory ${dir} belongs to uid ${st.uid}, not to this user (uid ${uid}); refusing to put sockets there`, dir);
  }
  if ((st.mode & 0o777) !== RUNTIME_DIR_MODE) await chmod(dir, RUNTIME_DIR_MODE);
}

/** The parent of an overridden socket path: created (0700) when missing, left alone otherwise. */
export async function ensureParentDir(path: string): Promise<void> {
  const dir = dirname(path);
  try {
    await mkdir(dir, { recursive: true, mode: RUNTIME_DIR_MODE });
  } catch (err) {
    throw refuse(`cannot create ${dir} for ${path}: ${(err as Error).message}`, dir);
  }
}
