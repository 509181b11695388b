// Client stop sequences, matched on the generated text as the client sees it. node-llama-cpp's
// own string stop triggers are matched on each token detokenized without its context, so on
// SentencePiece vocabularies (the demo model, Llama 2, …) a token's leading space is missing:
// a stop sequence that starts with a space never matches, and the text before a match loses
// that space. Here text is held back only while it could still be the start of a stop sequence,
// and a match aborts the generation (through `signal`) right after the token that completed it.

import { linkSignals, type LinkedSignal } from '../linked-signal.js';

export class StopSequences {
  readonly #stops: readonly string[];
  readonly #emit: (text: string) => void;
  readonly #stopper = new AbortController();
  readonly #link: LinkedSignal | undefined;
  /** The request's signal, combined with our own abort on a match. */
  readonly signal: AbortSignal | undefined;
  #held = '';
  #matched = false;

  constructor(stops: readonly string[] | undefined, requestSignal: AbortSignal | undefined, emit: (text: string) => void) {
    this.#stops = (stops ?? []).filter((s) => s.length > 0);
    this.#emit = emit;
    if (this.#stops.length === 0) this.signal = requestSignal;
    else if (!requestSignal) this.signal = this.#stopper.signal;
    else {
      this.#link = linkSignals([requestSignal, this.#stopper.signal]);
      this.signal = this.#link.signal;
    }
  }

  /** Detaches `signal` from the request's signal once the generation is over. */
  dispose(): void {
    this.#link?.unlink();
  }

  /** True once a stop sequence appeared; the text before it has been emitted, nothing after. */
  get matched(): boolean {
    return this.#matched;
  }

  push(text: string): void {
    if (this.#stops.length === 0) return this.#emit(text);
    if (this.#matched || text === '') return;
    const buffer = this.#held + text;
    let first = -1;
    for (const stop of this.#stops) {
      const at = buffer.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    if (first >= 0) {
      this.#matched = true;
      this.#held = '';
      if (first > 0) this.#emit(buffer.slice(0, first));
      this.#stopper.abort();
      return;
    }
    const keep = this.#partialLength(buffer);
    this.#held = buffer.slice(buffer.length - keep);
    if (keep < buffer.length) this.#emit(buffer.slice(0, buffer.length - keep));
  }

  /** The generation ended without a match: release what was held back. */
  finish(): void {
    if (this.#matched || this.#held === '') return;
    const held = this.#held;
    this.#held = '';
    this.#emit(held);
  }

  /** Length of the longest end of `buffer` that is the start of some stop sequence. */
  #partialLength(buffer: string): number {
    let longest = 0;
    for (const stop of this.#stops) {
      for (let n = Math.min(stop.length - 1, buffer.length); n > longest; n--) {
        if (buffer.endsWith(stop.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
