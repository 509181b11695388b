// Builds load snapshots from the daemon's own services: admission for slots and queue, the
// lifecycle for state and model, a LoadTracker (fed by Metrics) for tokens/s and TTFT.
import type { InferdConfig } from '../config/schema.js';
import type { InferenceGate } from '../inference/gate.js';
import type { Lifecycle } from '../lifecycle/lifecycle.js';
import type { Metrics } from '../metrics/metrics.js';
import { LoadFeed } from './load-feed.js';
import type { LoadSnapshot } from './load-snapshot.js';
import { LoadTracker } from './load-tracker.js';

/** At most one snapshot per second, as the dashboard needs no more. */
export const LOAD_INTERVAL_MS = 1000;

export interface LoadServices {
  config: InferdConfig;
  lifecycle: Lifecycle;
  gate: InferenceGate;
  metrics: Metrics;
}

export function createLoadFeed(services: LoadServices, intervalMs = LOAD_INTERVAL_MS): LoadFeed {
  const tracker = new LoadTracker();
  services.metrics.addRequestListener(tracker);
  return new LoadFeed(() => loadSnapshot(services, tracker), intervalMs);
}

function loadSnapshot({ config, lifecycle, gate }: LoadServices, tracker: LoadTracker): LoadSnapshot {
  const stats = gate.admission.stats();
  const info = lifecycle.engine?.info;
  const configured = config.model;
  const tps = tracker.tokensPerSecond();
  const ttft = tracker.ttftP50Ms();
  return {
    type: 'load',
    boot: lifecycle.bus.bootId,
    state: lifecycle.state,
    slots_busy: stats.active,
    slots_total: stats.slots,
    queued: stats.queued,
    queue_capacity: stats.queueDepth,
    // Rounded: the chart needs no more, and shorter frames are cheaper for fifty dashboards.
    tokens_per_second: Math.round(tps * 10) / 10,
    ttft_p50_ms: ttft === null ? null : Math.round(ttft * 10) / 10,
    requests_done: tracker.requestsDone,
    model: info
      ? {
          name: info.modelName,
          path: info.modelPath,
          size_bytes: info.sizeBytes,
          sha256: configured && 'sha256' in configured ? configured.sha256 : null,
          n_ctx: info.nCtx,
          threads: info.threads,
        }
      : null,
  };
}
