// Test helper: a connected pair of real Unix-domain sockets (the transport of admin.sock and
// infer.sock), torn down with the test.
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface SocketPair {
  /** The daemon's end (what a StreamPump writes to). */
  server: net.Socket;
  /** The client's end. Paused until the test reads from it. */
  client: net.Socket;
}

export async function socketPair(t: Teardown): Promise<SocketPair> {
  const dir = await mkdtemp(join(tmpdir(), 'inferd-pump-'));
  const path = join(dir, 's.sock');
  const listener = net.createServer();
  listener.listen(path);
  await once(listener, 'listening');
  const accepted = once(listener, 'connection') as Promise<[net.Socket]>;
  const client = net.connect(path);
  await once(client, 'connect');
  const [server] = await accepted;
  t.teardown(async () => {
    client.destroy();
    server.destroy();
    listener.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { server, client };
}

/** Writes `chunk` until the pump reports it is waiting for the peer; returns the bytes written. */
export function fillUntilBlocked(pump: { write(c: Uint8Array): Promise<void>; blocked: boolean }, chunk: Uint8Array): { written: number; pending: Promise<void> } {
  let written = 0;
  let pending: Promise<void> = Promise.resolve();
  for (let i = 0; i < 100_000 && !pump.blocked; i++) {
    pending = pump.write(chunk);
    written += chunk.length;
  }
  if (!pump.blocked) throw new Error('the socket never pushed back');
  return { written, pending };
}
