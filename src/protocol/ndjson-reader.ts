// NDJSON request reader with the 64 MiB frame cap (contract §1.1). Our own splitter, because
// line splitters in the ecosystem check their cap late or go quadratic on long lines
// (reliability-anchors "Unix-socket NDJSON frames"): each chunk is searched for `\n` before
// anything is concatenated, pending bytes are counted, and the cap is enforced the moment it
// would be crossed, so the buffer never holds more than the cap.
import type { Readable } from 'node:stream';
import { InferdError } from '../errors.js';
import { decodeJson, decodeJsonSliced } from './json-decode.js';
import { MAX_FRAME_BYTES } from './ndjson.js';

export type NdjsonError = { kind: 'error'; error: InferdError };
export type NdjsonItem = { kind: 'frame'; value: unknown; bytes: number } | NdjsonError;
/** A line before JSON decoding (NdjsonDecoder.nextLine): readNdjson decodes it in slices. */
export type NdjsonLine = { kind: 'line'; line: Buffer } | NdjsonError;

export interface NdjsonReaderOptions {
  /** Largest accepted line, `\n` excluded. Default 64 MiB. */
  maxFrameBytes?: number;
}

const LF = 0x0a;
/** A kept tail this much smaller than its chunk is copied, so the chunk can be freed. */
const COPY_TAIL_BELOW = 0.5;

function decodeError(message: string, bytes: number): NdjsonError {
  return { kind: 'error', error: new InferdError('invalid_request', `decode: ${message}`, { detail: { stage: 'decode', bytes } }) };
}

function decodeFailure(err: unknown): NdjsonError {
  return { kind: 'error', error: err instanceof InferdError ? err : new InferdError('invalid_request', 'decode: invalid JSON') };
}

/**
 * The synchronous core: push a chunk, then call next() until it returns undefined (it needs
 * more input). After end(), next() also yields the final unterminated line. The first error
 * (frame_too_large or a decode error) is the last item: the connection is closed after it.
 */
export class NdjsonDecoder {
  readonly maxFrameBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #chunk: Buffer | undefined;
  #offset = 0;
  #ended = false;
  #stopped = false;

  constructor(options: NdjsonReaderOptions = {}) {
    const max = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) throw new InferdError('internal', `maxFrameBytes must be a positive integer`);
    this.maxFrameBytes = max;
  }

  /** Bytes of the current unterminated line held in memory; never more than maxFrameBytes. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** True after an error item or the end of input: nothing more will come out. */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Hands over the next chunk. The previous one must have been drained with next(). */
  push(chunk: Uint8Array): void {
    if (this.#stopped) return;
    if (this.#ended) throw new InferdError('internal', 'NDJSON push after end');
    if (this.#chunk !== undefined) throw new InferdError('internal', 'NDJSON push before the previous chunk was drained');
    if (chunk.length === 0) return;
    this.#chunk = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    this.#offset = 0;
  }

  /** Marks the end of input; an unterminated final line is then accepted as a frame. */
  end(): void {
    this.#ended = true;
  }

  next(): NdjsonItem | undefined {
    const item = this.nextLine();
    if (item?.kind !== 'line') return item;
    try {
      // The decoder every transport shares: the same bytes get the same error as over HTTP.
      return { kind: 'frame', value: decodeJson(item.line), bytes: item.line.length };
    } catch (err) {
      return this.#stop(decodeFailure(err));
    }
  }

  /**
   * next() without the JSON decoding: the line's bytes, for a caller that decodes them itself
   * (and then stops after a decode error, as next() would).
   */
  nextLine(): NdjsonLine | undefined {
    if (this.#stopped) return undefined;
    const chunk = this.#chunk;
    if (chunk !== undefined) {
      const start = this.#offset;
      const nl = chunk.indexOf(LF, start);
      if (nl === -1) {
        const rest = chunk.length - start;
        if (this.#pendingBytes + rest > this.maxFrameBytes) return this.#tooLarge();
        this.#keep(chunk, start);
        this.#chunk = undefined;
      } else {
        if (this.#pendingBytes + (nl - start) > this.maxFrameBytes) return this.#tooLarge();
        const line = this.#takeLine(chunk, start, nl);
        this.#offset = nl + 1;
        if (this.#offset >= chunk.length) this.#chunk = undefined;
        return this.#line(line);
      }
    }
    if (!this.#ended) return undefined;
    this.#stopped = true;
    if (this.#pendingBytes === 0) return undefined; // zero bytes before EOF: a clean close
    return this.#line(this.#takeLine(undefined, 0, 0));
  }

  #keep(chunk: Buffer, start: number): void {
    const rest = chunk.length - start;
    if (rest === 0) return;
    const tail = chunk.subarray(start);
    this.#pending.push(rest < chunk.length * COPY_TAIL_BELOW ? Buffer.from(tail) : tail);
    this.#pendingBytes += rest;
  }

  #takeLine(chunk: Buffer | undefined, start: number, end: number): Buffer {
    const piece = chunk?.subarray(start, end);
    let line: Buffer;
    if (this.#pending.length === 0) line = piece ?? Buffer.alloc(0);
    else {
      if (piece !== undefined && piece.length > 0) this.#pending.push(piece);
      line = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes + (piece?.length ?? 0));
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    return line;
  }

  #line(line: Buffer): NdjsonLine {
    const bytes = line.length;
    if (bytes === 0 || (bytes === 1 && line[0] === 0x0d)) return this.#stop(decodeError('empty line', bytes));
    return { kind: 'line', line };
  }

  #tooLarge(): NdjsonError {
    return this.#stop({
      kind: 'error',
      error: new InferdError('frame_too_large', `frame exceeds ${this.maxFrameBytes} byte cap`, {
        detail: { maxFrameBytes: this.maxFrameBytes },
      }),
    });
  }

  #stop(item: NdjsonError): NdjsonError {
    this.#stopped = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#chunk = undefined;
    return item;
  }
}

/**
 * Frames from a byte stream (a net.Socket, a request body), one at a time. The stream is read
 * in paused mode: while the consumer handles a frame the generator is suspended, the stream's
 * buffer fills to its highWaterMark and Node stops reading the socket. The first error item is
 * the last; then the caller writes one error frame and closes. The stream is never destroyed
 * here (the caller still has to write that frame). Stream errors throw a `socket_error`; a
 * stream destroyed mid-line ends without yielding the partial line.
 * The owner keeps its own 'error' listener on the stream (ours lives only while iterating).
 * Do not call setEncoding() on the stream: it would hide invalid UTF-8 behind U+FFFD.
 */
export async function* readNdjson(source: Readable, options: NdjsonReaderOptions = {}): AsyncGenerator<NdjsonItem, void, undefined> {
  const decoder = new NdjsonDecoder(options);
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onError = (err: Error): void => {
    failure ??= err;
    poke();
  };
  source.on('readable', poke);
  source.on('end', poke);
  source.on('close', poke);
  source.on('error', onError);
  try {
    for (;;) {
      // `errored` is set synchronously by destroy(err); the 'error' event only follows later.
      const err = failure ?? source.errored;
      if (err) throw new InferdError('socket_error', `read failed: ${err.message}`, { cause: err });
      const chunk: unknown = source.read();
      if (chunk !== null) {
        decoder.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Uint8Array));
        for (let item = decoder.nextLine(); item !== undefined; item = decoder.nextLine()) {
          const decoded = await decodeLine(item);
          yield decoded;
          if (decoded.kind === 'error') return;
        }
        continue;
      }
      if (source.readableEnded) break;
      if (source.destroyed) return; // cut off mid-stream: no final frame
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    decoder.end();
    const last = decoder.nextLine();
    if (last !== undefined) yield await decodeLine(last);
  } finally {
    source.off('readable', poke);
    source.off('end', poke);
    source.off('close', poke);
    source.off('error', onError);
  }
}

/** A line's frame: large lines are decoded over several event-loop turns (json-decode.ts). */
async function decodeLine(item: NdjsonLine): Promise<NdjsonItem> {
  if (item.kind === 'error') return item;
  try {
    return { kind: 'frame', value: await decodeJsonSliced(item.line), bytes: item.line.length };
  } catch (err) {
    return decodeFailure(err);
  }
}
