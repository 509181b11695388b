// Pumps a StatusBus subscription into a stream (GET /admin/status as SSE or NDJSON, and
// admin.sock). All of them write the same frame bytes; only the framing differs. The stream
// ends when the subscription ends: a lagged subscriber gets EOF and reconnects (contract §1.10),
// a closed bus gets its last queued frames and then EOF.
import type { CloseReason, StatusRecord, Subscription } from '../status/subscription.js';
import { ndjsonLine } from './ndjson.js';
import { SSE_PING, sseMessage, sseRetry } from './sse.js';
import type { StreamPump } from './stream-pump.js';

export type StatusStreamFormat = 'sse' | 'ndjson';

export interface StatusPumpOptions {
  format: StatusStreamFormat;
  /** SSE only: a `: ping` comment after this many idle ms. NDJSON has no comment syntax. */
  heartbeatMs?: number;
  /** SSE only: a `retry: <ms>` preamble before the first frame. */
  retryMs?: number;
  /**
   * SSE only: event ids become `<prefix>.<n>`. With the bus's boot id as prefix, a browser that
   * reconnects to a restarted daemon is not mistaken for one that missed a few events.
   */
  eventIdPrefix?: string;
  /** Aborted when the server closes: queued frames are written, then the stream ends cleanly. */
  stop?: AbortSignal;
}

/** How the pump ended: the subscription's reason, or `peer_gone` when the reader left first. */
export type StatusPumpEnd = CloseReason | 'peer_gone';

export type StatusEncoder = (record: StatusRecord) => string;

/** SSE with the event id, so a reconnecting EventSource sends Last-Event-ID. */
export const sseStatusEncoder: StatusEncoder = (record) => sseMessage(record.frame, record.id);
export const ndjsonStatusEncoder: StatusEncoder = (record) => ndjsonLine(record.frame);

/**
 * Writes every record of `subscription` to `pump` until either side ends, then ends the
 * stream (unless the peer is already gone). A burst is written as one chunk. Each write is
 * awaited, so a slow reader leaves records in the bounded subscription queue, where the bus
 * cuts it off as `lagged` rather than buffering without limit here.
 */
export async function pumpStatus(
  subscription: Subscription,
  pump: StreamPump,
  options: StatusPumpOptions,
): Promise<StatusPumpEnd> {
  const sse = options.format === 'sse';
  const prefix = options.eventIdPrefix;
  const encode: StatusEncoder = !sse
    ? ndjsonStatusEncoder
    : prefix === undefined
      ? sseStatusEncoder
      : (record) => sseMessage(record.frame, `${prefix}.${record.id}`);
  const heartbeatMs = sse && options.heartbeatMs !== undefined && options.heartbeatMs > 0 ? options.heartbeatMs : undefined;
  // Peer gone → unsubscribe, which also wakes the wait below. The listener goes with the subscription.
  const onGone = (): void => subscription.close();
  if (pump.gone) onGone();
  else pump.signal.addEventListener('abort', onGone, { once: true, signal: subscription.signal });
  // Server closing: flush what is queued (ordered behind any write in progress), then
  // unsubscribe, which wakes the loop below into its normal end().
  const onStop = (): void => {
    let chunk = '';
    for (const record of subscription.takeAll()) chunk += encode(record);
    if (chunk !== '' && !pump.gone) pump.write(chunk).catch(() => undefined);
    subscription.close();
  };
  if (options.stop?.aborted) onStop();
  else options.stop?.addEventListener('abort', onStop, { once: true, signal: subscription.signal });

  try {
    if (sse && options.retryMs !== undefined && !pump.gone) await pump.write(sseRetry(options.retryMs));
    for (;;) {
      const batch = subscription.takeAll();
      if (batch.length > 0) {
        let chunk = '';
        for (const record of batch) chunk += encode(record);
        await pump.write(chunk);
        continue;
      }
      if (subscription.closeReason !== undefined || pump.gone) break;
      const ready = await subscription.wait(heartbeatMs);
      if (!ready) await pump.write(SSE_PING);
    }
    if (pump.gone) return 'peer_gone';
    // A lagged reader still gets what is in flight, then EOF; the write timeout bounds the
    // flush. Either way the stream stopped because of the subscription, so report its reason.
    await pump.end().catch(() => undefined);
    return subscription.closeReason ?? 'unsubscribed';
  } catch (err) {
    subscription.close();
    if (pump.gone) return 'peer_gone';
    throw err;
  }
}

/** The log outcome of a status stream: why it ended, from our side or the reader's. */
export function statusOutcome(end: StatusPumpEnd, pump: StreamPump, stop?: AbortSignal): string {
  if (stop?.aborted) return 'server_closing';
  if (end === 'peer_gone') {
    const why = (pump.signal.reason as { detail?: { reason?: unknown } } | undefined)?.detail?.reason;
    return why === 'write_timeout' ? 'write_timeout' : why === 'destroyed' ? 'server_closing' : 'client_closed';
  }
  return end === 'closed' ? 'server_closing' : end; // lagged, unsubscribed
}
