// One readable line per status frame, shared by `inferd status`, its fleet view and `inferd doctor`.
import type { StatusEvent } from '../status/events.js';
import { formatBytes } from './progress-bar.js';

/** One readable line per frame. */
export function describe(event: StatusEvent): string {
  switch (event.status) {
    case 'starting':
      return 'starting';
    case 'ready':
      return 'ready';
    case 'draining':
      return 'draining: the daemon is shutting down';
    case 'failed':
      return `failed: ${event.message}`;
    case 'capabilities':
      return `model ${event.backend}: accelerator ${event.accelerator}, gpu layers ${event.gpu_layers}, embed ${yes(event.embed)}, tools ${yes(event.tools)}, vision ${yes(event.vision)}`;
    case 'loading_model':
    case 'restarting': {
      const prefix = event.status === 'restarting' ? 'reloading: ' : '';
      switch (event.phase) {
        case 'checking_local':
          return `${prefix}checking ${event.path}`;
        case 'download':
          return `${prefix}downloading ${formatBytes(event.downloaded_bytes)}${event.total_bytes === null ? '' : ` / ${formatBytes(event.total_bytes)}`}`;
        case 'verify':
          return `${prefix}verifying ${event.path}`;
        case 'quarantine':
          return `${prefix}checksum mismatch: expected ${event.expected_sha256}, got ${event.actual_sha256}; moved to ${event.quarantine_path}`;
        case 'mmap':
          return `${prefix}loading ${event.path}`;
        case 'kv_cache':
          return `${prefix}allocating the KV cache (n_ctx ${event.n_ctx})`;
        case 'drain':
          return `${prefix}waiting for ${event.in_flight} in-flight request(s)`;
        case 'rollback':
          return `${prefix}failed (${event.message}); serving the previous model again`;
      }
    }
  }
}

function yes(value: boolean): string {
  return value ? 'yes' : 'no';
}
