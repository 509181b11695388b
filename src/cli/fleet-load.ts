// Slots, queue and model of one daemon for `inferd status` with several --url values. Read from
// the /metrics gauges for now, polled; the live load stream (GET /admin/load) will replace this
// source without changing the view: the view only sees `DaemonLoad`.
import { request } from 'undici';

export interface DaemonLoad {
  model: string | null;
  slots: number;
  active: number;
  queued: number;
  queueCapacity: number;
}

/** Parses the few gauges the fleet view shows out of Prometheus text. Null when they are absent. */
export function loadFromMetrics(text: string): DaemonLoad | null {
  const gauge = (name: string): number | null => {
    const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
    return match ? Number(match[1]) : null;
  };
  const slots = gauge('inferd_slots');
  if (slots === null) return null;
  const model = /^inferd_model_info\{[^}]*\bname="((?:[^"\\]|\\.)*)"/m.exec(text);
  return {
    model: model ? model[1]! : null,
    slots,
    active: gauge('inferd_requests_active') ?? 0,
    queued: gauge('inferd_requests_queued') ?? 0,
    queueCapacity: gauge('inferd_queue_capacity') ?? 0,
  };
}

/** One poll of `<url>/metrics`; null when the daemon does not answer. */
export async function readLoad(url: string, signal: AbortSignal): Promise<DaemonLoad | null> {
  try {
    const res = await request(new URL('/metrics', url), { signal, headersTimeout: 2000, bodyTimeout: 2000 });
    const text = await res.body.text();
    return res.statusCode === 200 ? loadFromMetrics(text) : null;
  } catch {
    return null;
  }
}
