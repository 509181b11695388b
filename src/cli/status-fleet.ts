// `inferd status --url A --url B ...`: one row per daemon (state, phase and progress, model,
// slots/queue), live until interrupted. Each daemon has its own admin stream, reopened when it
// ends (a restart), and its load polled once a second. A TTY gets a table redrawn in place;
// anything else gets a plain line whenever a row changes.
import { setTimeout as sleep } from 'node:timers/promises';
import type { StatusEvent } from '../status/events.js';
import { openAdminStream, statusEvents } from './admin-client.js';
import { readLoad, type DaemonLoad } from './fleet-load.js';
import { formatBytes } from './progress-bar.js';
import { describe } from './status-text.js';

export interface FleetRow {
  url: string;
  /** The lifecycle status, or `down` while nothing answers. */
  state: string;
  detail: string;
  load: DaemonLoad | null;
}

/** The phase column: what the daemon is doing, with progress where there is some. */
export function phaseOf(event: StatusEvent): string {
  if ((event.status === 'loading_model' || event.status === 'restarting') && event.phase === 'download') {
    const pct = event.total_bytes ? ` ${Math.floor((100 * event.downloaded_bytes) / event.total_bytes)}%` : '';
    return `download ${formatBytes(event.downloaded_bytes)}${pct}`;
  }
  if (event.status === 'ready' || event.status === 'capabilities') return '';
  return describe(event).replace(/^reloading: /, '');
}

export function formatRow(row: FleetRow): string {
  const load = row.load;
  const model = load?.model ?? '-';
  const slots = load ? `${load.active}/${load.slots}` : '-';
  const queue = load ? `${load.queued}/${load.queueCapacity}` : '-';
  return [row.url.padEnd(28), row.state.padEnd(13), model.padEnd(24), `slots ${slots}`.padEnd(11), `queue ${queue}`.padEnd(12), row.detail].join(' ').trimEnd();
}

async function followOne(row: FleetRow, changed: () => void, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const stream = await openAdminStream({ kind: 'http', url: row.url }, signal);
      try {
        for await (const event of statusEvents(stream)) {
          if (event.status === 'capabilities') continue;
          row.state = event.status;
          row.detail = phaseOf(event);
          changed();
        }
      } finally {
        stream.destroy();
      }
    } catch {
      // nothing answers (yet): shown as down below, tried again in a second
    }
    if (signal.aborted) return;
    if (row.state !== 'down') {
      row.state = 'down';
      row.detail = 'no answer';
      row.load = null;
      changed();
    }
    await sleep(1000, undefined, { signal }).catch(() => {});
  }
}

async function pollLoad(row: FleetRow, changed: () => void, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    if (row.state !== 'down') {
      const load = await readLoad(row.url, signal);
      if (JSON.stringify(load) !== JSON.stringify(row.load)) {
        row.load = load;
        changed();
      }
    }
    await sleep(1000, undefined, { signal }).catch(() => {});
  }
}

/** Runs until `signal` aborts (SIGINT in the CLI); resolves with exit code 0. */
export async function followFleet(urls: string[], out: NodeJS.WriteStream, signal: AbortSignal): Promise<number> {
  const rows: FleetRow[] = urls.map((url) => ({ url, state: 'connecting', detail: '', load: null }));
  const tty = out.isTTY === true;
  let drawn = 0;
  const printed = new Map<FleetRow, string>();
  const render = () => {
    if (tty) {
      // Back to the top of the table, then rewrite it line by line (\x1b[K clears the rest).
      const lines = rows.map(formatRow);
      out.write(`${drawn > 0 ? `\x1b[${drawn}A` : ''}${lines.map((l) => `\r${l}\x1b[K\n`).join('')}`);
      drawn = lines.length;
      return;
    }
    for (const row of rows) {
      const line = formatRow(row);
      if (printed.get(row) !== line) out.write(`${line}\n`);
      printed.set(row, line);
    }
  };
  let pending = false;
  const changed = () => {
    // Coalesce bursts of frames (a download) into one redraw per tick.
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      if (!signal.aborted) render();
    });
  };
  render();
  await Promise.all(rows.flatMap((row) => [followOne(row, changed, signal), pollLoad(row, changed, signal)]));
  return 0;
}
