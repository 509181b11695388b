// Human-readable numbers for the dashboard.
export function bytes(n) {
  if (n == null) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(i === 0 ? 0 : n < 10 ? 2 : 1)} ${units[i]}`;
}

export function duration(seconds) {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function ms(value) {
  if (value == null) return '—';
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`;
}

export function clock(date = new Date()) {
  return date.toLocaleTimeString([], { hour12: false });
}

/** A status frame as a short sentence for the timeline (never the raw JSON). */
export function describe(frame) {
  switch (frame.phase) {
    case 'checking_local': return `checking the local file ${basename(frame.path)}`;
    case 'download': return `downloading: ${bytes(frame.downloaded_bytes)} of ${bytes(frame.total_bytes)}`;
    case 'verify': return `verifying SHA-256 of ${basename(frame.path)}`;
    case 'quarantine': return `checksum mismatch: file moved to quarantine`;
    case 'mmap': return `mapping ${basename(frame.path)} into memory`;
    case 'kv_cache': return `allocating the KV cache (${frame.n_ctx} tokens)`;
    case 'drain': return `waiting for ${frame.in_flight} request(s) to finish`;
    case 'rollback': return `reload failed, previous model kept: ${frame.message}`;
    default: break;
  }
  switch (frame.status) {
    case 'capabilities': return `model ${frame.backend} on ${frame.accelerator}`;
    case 'ready': return 'serving requests';
    case 'starting': return 'process started';
    case 'draining': return 'finishing in-flight requests before stopping';
    case 'failed': return frame.message;
    default: return '';
  }
}

export const STATUS_LABEL = {
  starting: 'Starting', loading_model: 'Loading', capabilities: 'Capabilities', ready: 'Ready',
  restarting: 'Restarting', draining: 'Draining', failed: 'Failed',
};

export const PHASE_LABEL = {
  checking_local: 'checking local file', download: 'download', verify: 'verify', quarantine: 'quarantine',
  mmap: 'map into memory', kv_cache: 'KV cache', drain: 'drain', rollback: 'rollback',
};

function basename(path) {
  return typeof path === 'string' ? path.split(/[\\/]/).pop() : '';
}
