// A byte-progress display for CLI commands (`inferd pull`, `inferd status`). On a TTY it redraws
// one line in place: bar, percent, bytes, rate and ETA. Otherwise (pipes, CI logs) it prints
// plain lines, at most one per `plainIntervalMs`, so logs stay readable.

export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean | undefined;
  columns?: number | undefined;
}

export interface ProgressBarOptions {
  label: string;
  /** Default: process.stderr (progress is chatter, never machine output). */
  stream?: ProgressStream | undefined;
  /** Default: stream.isTTY. */
  tty?: boolean | undefined;
  /** Least time between two redraws on a TTY. Default 100 ms. */
  minIntervalMs?: number | undefined;
  /** Least time between two plain lines. Default 2000 ms. */
  plainIntervalMs?: number | undefined;
  now?: (() => number) | undefined;
}

/** Transfer rate over a sliding window, so a resumed start or a stall does not skew it. */
export class RateMeter {
  private samples: Array<{ t: number; bytes: number }> = [];
  constructor(private readonly windowMs = 5_000) {}

  sample(bytes: number, t: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && bytes < last.bytes) this.samples = []; // restarted from 0
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0]!.t > this.windowMs) this.samples.shift();
  }

  /** Bytes per second, or null until two samples at least 200 ms apart exist. */
  rate(): number | null {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t - first.t < 200) return null;
    return ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
  }
}

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly meter = new RateMeter();
  private lastDraw = -Infinity;
  /** A TTY line is on screen and not yet ended. */
  private drawn = false;
  /** An update arrived that has not been drawn (throttled). */
  private pending = false;
  private done = 0;
  private total: number | null = null;

  constructor(private readonly options: ProgressBarOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = options.tty ?? Boolean(this.stream.isTTY);
    this.now = options.now ?? Date.now;
  }

  get isTTY(): boolean {
    return this.tty;
  }

  update(done: number, total: number | null, force = false): void {
    const t = this.now();
    this.done = done;
    this.total = total;
    this.meter.sample(done, t);
    this.pending = true;
    const interval = this.tty ? (this.options.minIntervalMs ?? 100) : (this.options.plainIntervalMs ?? 2_000);
    if (!force && t - this.lastDraw < interval) return;
    this.lastDraw = t;
    this.draw();
  }

  /** Prints a line of its own without garbling the bar. */
  log(line: string): void {
    if (this.tty && this.drawn) this.stream.write('\r\x1b[K');
    this.stream.write(`${line}\n`);
    if (this.tty && this.drawn) this.draw();
  }

  /** Draws the final state if it was not drawn yet, ends the line, then prints `message`. */
  finish(message?: string): void {
    if (this.pending) {
      this.lastDraw = this.now();
      this.draw();
    }
    if (this.tty && this.drawn) this.stream.write('\n');
    this.drawn = false;
    if (message) this.stream.write(`${message}\n`);
  }

  /** Ends a TTY line without a final redraw (before an error message). */
  interrupt(): void {
    if (this.tty && this.drawn) this.stream.write('\n');
    this.drawn = false;
  }

  /** The text of the current state (without control characters). */
  render(): string {
    const { done, total } = this;
    const rate = this.meter.rate();
    const parts: string[] = [this.options.label];
    if (total !== null && total > 0) {
      const frac = Math.min(1, done / total);
      if (this.tty) parts.push(`[${bar(frac, this.barWidth())}]`);
      parts.push(`${(frac * 100).toFixed(1).padStart(5)}%`, `${formatBytes(done)} / ${formatBytes(total)}`);
    } else {
      parts.push(formatBytes(done));
    }
    if (rate !== null) parts.push(`${formatBytes(rate)}/s`);
    if (rate !== null && rate > 0 && total !== null && done < total) parts.push(`ETA ${formatDuration((total - done) / rate)}`);
    return parts.join('  ');
  }

  private draw(): void {
    this.pending = false;
    const text = this.render();
    if (this.tty) {
      const cols = this.stream.columns ?? 100;
      this.stream.write(`\r\x1b[K${text.slice(0, Math.max(20, cols - 1))}`);
      this.drawn = true;
    } else {
      this.stream.write(`${text}\n`);
    }
  }

  private barWidth(): number {
    const cols = this.stream.columns ?? 100;
    return Math.max(10, Math.min(30, cols - 70));
  }
}

function bar(frac: number, width: number): string {
  const full = Math.round(frac * width);
  return `${'#'.repeat(full)}${'-'.repeat(width - full)}`;
}

/** Binary units: `512 B`, `1.5 KiB`, `4.77 GiB`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${Math.round(v)} B`;
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[i]}`;
}

/** `42s`, `3:07`, `1:02:03`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
