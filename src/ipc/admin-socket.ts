// One admin.sock connection (contract §1.10): the capabilities frame and the current snapshot,
// then every later status frame, as NDJSON. The bytes are those of `GET /admin/status` NDJSON:
// the same StatusBus subscription pumped by the same pumpStatus() with the same encoder.
import type net from 'node:net';
import { durationMs, newRequestLog, writeRequestLine, type RequestLogger } from '../log/request-log.js';
import { pumpStatus, statusOutcome, type StatusPumpEnd } from '../protocol/status-pump.js';
import { StreamPump } from '../protocol/stream-pump.js';
import type { StatusBus } from '../status/bus.js';

export interface AdminSessionOptions {
  bus: StatusBus;
  /** F-17: a reader that stops reading for this long is dropped (0: never). */
  writeTimeoutMs: number;
  /** Where the subscription's one log line goes when it ends. */
  log?: RequestLogger;
}

let sessionCounter = 0;

/**
 * Serves `socket` until the bus closes (after `draining`: EOF), the client lags 256 frames
 * behind (EOF, no error frame), or the client hangs up. Never rejects; the socket is destroyed
 * when it resolves.
 */
export async function serveAdminSession(socket: net.Socket, options: AdminSessionOptions): Promise<StatusPumpEnd> {
  const subscription = options.bus.subscribe();
  const pump = new StreamPump(socket, { writeTimeoutMs: options.writeTimeoutMs });
  // Client writes mean nothing here and get no answer, but the socket is still read (and the
  // bytes dropped): reading is how EOF, i.e. the client hanging up, is noticed between frames.
  // Otherwise a closed client would hold its subscription until the next status change.
  socket.on('data', discard);
  socket.once('end', () => {
    if (!pump.gone) pump.destroy('closed', 'admin client hung up');
  });
  const record = newRequestLog();
  let end: StatusPumpEnd = 'peer_gone';
  try {
    end = await pumpStatus(subscription, pump, { format: 'ndjson' });
    return end;
  } catch {
    return 'peer_gone';
  } finally {
    subscription.close();
    socket.destroy();
    if (options.log) {
      writeRequestLine(options.log, {
        transport: 'admin.sock',
        req_id: `admin-${++sessionCounter}`,
        outcome: statusOutcome(end, pump),
        duration_ms: durationMs(record),
      });
    }
  }
}

function discard(): void {}
