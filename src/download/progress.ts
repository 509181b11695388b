// Cadence of `download` phase frames (contract §1.10): one at the start of the body, then
// whenever `downloaded >= next_milestone` or `everyMs` has passed since the last frame
// (next_milestone = downloaded + everyBytes after each frame), and a final one after EOF with
// `total_bytes = total ?? downloaded`. Both thresholds are options so tests can use small ones.
import type { LoadPhase } from '../status/events.js';

export interface ProgressCadence {
  /** Default 32 MiB. */
  everyBytes: number;
  /** Default 5000 ms. */
  everyMs: number;
}

export const DEFAULT_CADENCE: ProgressCadence = { everyBytes: 32 * 1024 * 1024, everyMs: 5_000 };

type DownloadFrame = Extract<LoadPhase, { phase: 'download' }>;

export class ProgressTicker {
  private nextMilestone = 0;
  private lastAt = 0;
  private total: number | null = null;
  private last: DownloadFrame | null = null;

  constructor(
    private readonly sourceUrl: string,
    private readonly cadence: ProgressCadence,
    private readonly emit: (frame: DownloadFrame) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Start of a response body: `downloaded` is 0, or the resume offset. */
  start(downloaded: number, total: number | null): void {
    this.total = total;
    this.publish(downloaded, total);
  }

  /** After each chunk. */
  tick(downloaded: number): void {
    if (downloaded >= this.nextMilestone || this.now() - this.lastAt >= this.cadence.everyMs) {
      this.publish(downloaded, this.total);
    }
  }

  /** After EOF: the last frame, with total = downloaded when the total was unknown. */
  finish(downloaded: number): void {
    this.publish(downloaded, this.total ?? downloaded);
  }

  private publish(downloaded: number, total: number | null): void {
    this.nextMilestone = downloaded + this.cadence.everyBytes;
    this.lastAt = this.now();
    // The final frame can coincide with the last milestone frame; never send a duplicate.
    if (this.last && this.last.downloaded_bytes === downloaded && this.last.total_bytes === total) return;
    this.last = { phase: 'download', downloaded_bytes: downloaded, total_bytes: total, source_url: this.sourceUrl };
    this.emit(this.last);
  }
}
