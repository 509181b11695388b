// Where downloaded bytes go: the partial file. It is an interface so tests can inject write
// failures (ENOSPC) without filling a real disk.
//
// The file sink batches network chunks (typically 16–64 KiB) into ~1 MiB `writev` calls and
// lets one write run while the next batch fills, so disk latency overlaps network and hashing.
import { open, type FileHandle } from 'node:fs/promises';

export interface FileSink {
  /**
   * Queues bytes for writing. Returns undefined when the chunk was accepted at once (the common
   * case: no promise per network chunk), or a promise to await for backpressure or a failure.
   */
  write(chunk: Buffer): Promise<void> | undefined;
  /** Writes everything queued, fsyncs and closes the file. */
  close(): Promise<void>;
  /** Closes without fsync after a failure; never throws. Bytes queued may or may not be written. */
  abort(): Promise<void>;
}

/** Opens the partial file for writing at `offset` (0 truncates it). */
export type SinkFactory = (path: string, offset: number) => Promise<FileSink>;

const BATCH_BYTES = 1024 * 1024;
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

export const fileSink: SinkFactory = async (path, offset) => {
  const fh = await open(path, offset === 0 ? 'w' : 'r+', 0o644);
  if (offset > 0) await fh.truncate(offset);
  return new BatchedFileSink(fh, offset);
};

class BatchedFileSink implements FileSink {
  private queue: Buffer[] = [];
  private queued = 0;
  private inFlight: Promise<void> | null = null;
  private failure: unknown = null;
  private closed = false;

  constructor(
    private readonly fh: FileHandle,
    private position: number,
  ) {}

  write(chunk: Buffer): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= BATCH_BYTES && this.inFlight === null) this.startWrite();
    // Backpressure: a slow disk must slow the download rather than grow memory.
    return this.queued >= MAX_QUEUED_BYTES ? this.drain() : undefined;
  }

  private async drain(): Promise<void> {
    while (this.queued >= MAX_QUEUED_BYTES && this.inFlight !== null) {
      await this.inFlight;
      if (this.failure) throw this.failure;
      if (this.queued >= BATCH_BYTES && this.inFlight === null) this.startWrite();
    }
  }

  private startWrite(): void {
    const buffers = this.queue;
    const size = this.queued;
    this.queue = [];
    this.queued = 0;
    const at = this.position;
    this.position += size;
    this.inFlight = writeAll(this.fh, buffers, at)
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.inFlight = null;
      });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.inFlight) await this.inFlight;
      if (this.failure) throw this.failure;
      if (this.queued > 0) {
        this.startWrite();
        await this.inFlight;
        if (this.failure) throw this.failure;
      }
      await this.fh.sync();
    } finally {
      this.closed = true;
      await this.fh.close();
    }
  }

  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.inFlight) await this.inFlight.catch(() => undefined);
    await this.fh.close().catch(() => undefined);
  }
}

/** writev until every byte is written (writev may write fewer bytes than asked). */
async function writeAll(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await fh.writev(pending, at);
    at += bytesWritten;
    pending = dropBytes(pending, bytesWritten);
  }
}

function dropBytes(buffers: Buffer[], n: number): Buffer[] {
  let skip = n;
  const rest: Buffer[] = [];
  for (const b of buffers) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    rest.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return rest;
}
