// Reads the admin stream for CLI commands: over HTTP (`GET /admin/status`, NDJSON) or over
// admin.sock. Both carry the same frames; this yields them parsed and checked.
import { connect } from 'node:net';
import type { Readable } from 'node:stream';
import { request } from 'undici';
import { InferdError } from '../errors.js';
import { readNdjson } from '../protocol/ndjson-reader.js';
import { validatorFor } from '../protocol/validate.js';
import { StatusFrameSchema } from '../status/events.js';
import type { StatusEvent } from '../status/events.js';

export type AdminTarget = { kind: 'http'; url: string } | { kind: 'unix'; path: string };

export function describeTarget(target: AdminTarget): string {
  return target.kind === 'http' ? target.url : target.path;
}

/** Opens the admin stream; rejects with a clear error when nothing answers. */
export async function openAdminStream(target: AdminTarget, signal: AbortSignal): Promise<Readable> {
  if (target.kind === 'unix') {
    return new Promise((resolve, reject) => {
      const socket = connect(target.path);
      const onAbort = () => socket.destroy();
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => resolve(socket));
      socket.once('error', (err) => reject(new InferdError('socket_error', `cannot connect to ${target.path}: ${err.message}`, { cause: err })));
    });
  }
  try {
    // bodyTimeout 0: an idle admin stream is silent for as long as nothing happens (NDJSON has no heartbeat).
    const res = await request(new URL('/admin/status?format=ndjson', target.url), { signal, bodyTimeout: 0, headers: { accept: 'application/x-ndjson', ...ownerKeyHeader() } });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new InferdError('socket_error', `${target.url}/admin/status answered HTTP ${res.statusCode}`);
    }
    return res.body;
  } catch (err) {
    if (err instanceof InferdError) throw err;
    throw new InferdError('socket_error', `no inferd answers at ${target.url}: ${(err as Error).message}`, { cause: err });
  }
}

/** INFERD_API_KEY, the owner's admin key, for a daemon that requires keys. */
function ownerKeyHeader(): Record<string, string> {
  const key = process.env['INFERD_API_KEY'];
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** The status events of the stream, in order, until EOF. */
export async function* statusEvents(stream: Readable): AsyncGenerator<StatusEvent> {
  const valid = validatorFor(StatusFrameSchema);
  for await (const item of readNdjson(stream)) {
    if (item.kind === 'error') throw item.error;
    // Unknown statuses and keys are allowed by the contract: skip what we cannot read.
    if (!valid(item.value).ok) continue;
    const { id: _id, type: _type, ...event } = item.value as Record<string, unknown>;
    yield event as StatusEvent;
  }
}
