// A listening Unix-domain socket with the binding hygiene of contract §1.7/§3.15 and
// reliability-anchors "Socket file permissions and stale sockets":
// - a symlink at the path is refused, never followed or unlinked;
// - anything that is not a socket is refused (we never delete a user's file);
// - an existing socket is probed: if something answers, another process serves there and we
//   refuse; only a socket that refuses connections (its owner is gone) is unlinked as stale;
// - the file is created under umask 0177 and then chmod'ed to its final mode, which is
//   verified with lstat (fail closed);
// - close() stops accepting and removes the file (only ours: checked by inode).
import { once } from 'node:events';
import { lstatSync, unlinkSync } from 'node:fs';
import { chmod, lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import { InferdError } from '../errors.js';
import { MAX_SOCKET_PATH_BYTES } from './paths.js';

/** How long a probe of an existing socket may take before we assume a live, busy owner. */
const PROBE_TIMEOUT_MS = 1000;

export interface UnixListenerOptions {
  path: string;
  /** Final mode of the socket file, e.g. 0o600 (admin) or 0o660 (infer). */
  mode: number;
  /** Keep our side writable after the client sends EOF (infer.sock answers half-closed clients). */
  allowHalfOpen: boolean;
  onConnection(socket: net.Socket): void;
  onError?(err: Error): void;
}

function socketError(message: string, path: string, cause?: unknown): InferdError {
  return new InferdError('socket_error', message, { detail: { path }, ...(cause === undefined ? {} : { cause }) });
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

type ProbeResult = 'live' | 'stale' | 'gone';

/** Connects to an existing socket file to learn whether anyone still serves it. */
function probe(path: string): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const client = net.connect(path);
    const settle = (result: ProbeResult): void => {
      clearTimeout(timer);
      client.destroy();
      resolve(result);
    };
    // No answer in time: a live owner with a full backlog looks like this; never unlink it.
    const timer = setTimeout(() => settle('live'), PROBE_TIMEOUT_MS);
    client.once('connect', () => settle('live'));
    client.once('error', (err) => {
      const code = errno(err);
      settle(code === 'ECONNREFUSED' ? 'stale' : code === 'ENOENT' ? 'gone' : 'live');
    });
  });
}

/**
 * Makes `path` free for bind(): absent, or a stale socket removed. Throws a `socket_error` for
 * a symlink, a non-socket file or a socket someone still serves.
 */
export async function clearSocketPath(path: string): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw socketError(`socket path is too long (${Buffer.byteLength(path)} bytes, the limit is ${MAX_SOCKET_PATH_BYTES}): ${path}; choose a shorter --runtime-dir`, path);
  }
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if (errno(err) === 'ENOENT') return;
    throw socketError(`cannot inspect ${path}: ${(err as Error).message}`, path, err);
  }
  if (st.isSymbolicLink()) throw socketError(`socket path ${path} is a symlink (refused)`, path);
  if (!st.isSocket()) throw socketError(`${path} exists and is not a socket; refusing to replace it`, path);
  const state = await probe(path);
  if (state === 'live') throw socketError(`another process is serving on ${path}; refusing to replace a live socket`, path);
  if (state === 'gone') return;
  // Stale. Unlink only the file we probed: if it was replaced meanwhile, leave the new one be.
  const again = await lstat(path).catch(() => null);
  if (again === null) return;
  if (again.ino !== st.ino || again.dev !== st.dev) throw socketError(`${path} changed while it was being checked; refusing to touch it`, path);
  await unlink(path).catch((err: unknown) => {
    if (errno(err) !== 'ENOENT') throw socketError(`cannot remove the stale socket ${path}: ${(err as Error).message}`, path, err);
  });
}

export class UnixListener {
  readonly path: string;
  readonly mode: number;
  readonly #options: UnixListenerOptions;
  #server: net.Server | null = null;
  #inode: { dev: number; ino: number } | null = null;
  readonly #sockets = new Set<net.Socket>();

  constructor(options: UnixListenerOptions) {
    this.path = options.path;
    this.mode = options.mode;
    this.#options = options;
  }

  get listening(): boolean {
    return this.#server !== null;
  }

  /** Open connections accepted by this listener. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** Clears the path, binds, sets and verifies the mode. Rejects if close() comes first. */
  async listen(): Promise<void> {
    if (this.#server) throw new InferdError('internal', `${this.path} is already listening`);
    await clearSocketPath(this.path);
    const server = net.createServer({ allowHalfOpen: this.#options.allowHalfOpen }, (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      this.#options.onConnection(socket);
    });
    this.#server = server;
    const settled = Promise.race([
      once(server, 'listening'),
      once(server, 'close').then(() => {
        throw socketError(`${this.path} was closed while it was being bound`, this.path);
      }),
    ]);
    // bind() happens synchronously inside listen(); a tight umask there means the file never
    // exists with looser bits than 0600, even before chmod. The umask is process-wide, so it is
    // restored in the same tick.
    const previous = setUmask(0o177);
    try {
      server.listen(this.path);
    } finally {
      if (previous !== undefined) setUmask(previous);
    }
    try {
      await settled; // 'error' (EADDRINUSE, EACCES…) rejects through once()
      await chmod(this.path, this.mode);
      const st = await lstat(this.path);
      if (!st.isSocket() || (st.mode & 0o777) !== this.mode) {
        throw socketError(`${this.path} has mode ${(st.mode & 0o777).toString(8)} after bind, expected ${this.mode.toString(8)}`, this.path);
      }
      this.#inode = { dev: st.dev, ino: st.ino };
    } catch (err) {
      this.close();
      throw err instanceof InferdError ? err : socketError(`cannot listen on ${this.path}: ${(err as Error).message}`, this.path, err);
    }
    server.on('error', (err) => this.#options.onError?.(err));
  }

  /**
   * Stops accepting and removes the socket file, synchronously: once this returns, connect()
   * fails with ENOENT. Open connections are left to their owners (see destroyAll()).
   */
  close(): void {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    server.close(); // libuv unlinks the path as it closes the handle
    const inode = this.#inode;
    this.#inode = null;
    if (!inode) return;
    try {
      const st = lstatSync(this.path);
      if (st.isSocket() && st.ino === inode.ino && st.dev === inode.dev) unlinkSync(this.path);
    } catch {
      // Already gone: the normal case.
    }
  }

  /** Drops every open connection now. */
  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }
}

/** process.umask(mask), or undefined where it cannot be set (worker threads). */
function setUmask(mask: number): number | undefined {
  try {
    return process.umask(mask);
  } catch {
    return undefined;
  }
}
