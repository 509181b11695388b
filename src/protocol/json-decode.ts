// The one JSON decoder of every request boundary: HTTP bodies (src/http/json-body.ts) and
// NDJSON frames (infer.sock, via the NDJSON reader) turn bytes into values here, so the same
// bad input gets the same coded error on every transport and in every API family.
//
// | input                          | message                                   |
// |--------------------------------|-------------------------------------------|
// | bytes that are not UTF-8       | decode: invalid UTF-8                     |
// | not JSON                       | decode: invalid JSON [at position N]      |
// | nesting deeper than 64         | decode: JSON nested deeper than 64 levels |
// | a `__proto__`/`constructor`/`prototype` key | decode: forbidden key "<key>" |
// | a lone UTF-16 surrogate (\ud800) | decode: lone surrogate in a string      |
//
// decodeJson is one synchronous task. A 1 MB body takes 20-70 ms that way (UTF-8 decode and
// JSON.parse ~7 ms each, the reviver's regex over every string), so decodeJsonSliced decodes
// large inputs in slices with event-loop turns between them, parses without the reviver and
// then walks the value; only when the walk finds something the reviver could refuse does it
// parse again with the reviver, which gives the very same answer as decodeJson.
import { setImmediate as turn } from 'node:timers/promises';
import { InferdError } from '../errors.js';

export const MAX_JSON_DEPTH = 64;
/** Keys that reach object prototypes when a value is merged or assigned somewhere downstream. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function decodeError(message: string, bytes?: number): InferdError {
  return new InferdError('invalid_request', `decode: ${message}`, { detail: { stage: 'decode', ...(bytes === undefined ? {} : { bytes }) } });
}

/** JSON.parse messages quote the input; keep only the position so nothing is echoed back. */
function describeJsonError(err: unknown): string {
  const position = err instanceof Error ? /position (\d+)/.exec(err.message)?.[1] : undefined;
  return position === undefined ? 'invalid JSON' : `invalid JSON at position ${position}`;
}

/**
 * Deepest [ / { nesting, strings skipped; fed in pieces, so a text can be scanned as it is
 * decoded. Linear, no recursion; stops looking once past `limit`.
 */
class NestingScan {
  #depth = 0;
  #max = 0;
  #inString = false;
  /** A backslash ended the previous piece: the first character of this one is escaped. */
  #escaped = false;

  constructor(readonly limit: number) {}

  get exceeded(): boolean {
    return this.#max > this.limit;
  }

  scan(text: string): void {
    if (this.exceeded) return;
    let depth = this.#depth;
    let max = this.#max;
    let inString = this.#inString;
    let i = 0;
    if (this.#escaped) {
      this.#escaped = false;
      i = 1;
    }
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (c === 0x5c) {
          if (++i === text.length) this.#escaped = true; // backslash: skip the escaped character
        } else if (c === 0x22) inString = false;
      } else if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) {
        if (++depth > max && (max = depth) > this.limit) break;
      } else if (c === 0x7d || c === 0x5d) depth--;
    }
    this.#depth = depth;
    this.#max = max;
    this.#inString = inString;
  }
}

// Without the `u` flag the regex sees UTF-16 code units, so it can find an unpaired half.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Any surrogate: a plain class scan, ~4x cheaper than LONE_SURROGATE's look-arounds on 1 MB. */
const ANY_SURROGATE = /[\uD800-\uDFFF]/;

function reviver(this: unknown, key: string, value: unknown): unknown {
  if (FORBIDDEN_KEYS.has(key)) throw decodeError(`forbidden key ${JSON.stringify(key)}`);
  if (typeof value === 'string' && LONE_SURROGATE.test(value)) throw decodeError('lone surrogate in a string');
  if (LONE_SURROGATE.test(key)) throw decodeError('lone surrogate in a key');
  return value;
}

function tooDeep(): InferdError {
  return decodeError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
}

/** JSON.parse with the reviver: every refusal of a key or string comes from here. */
function parseChecked(text: string): unknown {
  try {
    return JSON.parse(text, reviver) as unknown;
  } catch (err) {
    if (err instanceof InferdError) throw err;
    throw decodeError(describeJsonError(err));
  }
}

/** UTF-8 bytes (or already decoded text) to a JSON value; throws `invalid_request` errors only. */
export function decodeJson(input: Uint8Array | string): unknown {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = utf8.decode(input);
    } catch {
      throw decodeError('invalid UTF-8', input.length);
    }
  }
  const nesting = new NestingScan(MAX_JSON_DEPTH);
  nesting.scan(text);
  if (nesting.exceeded) throw tooDeep();
  return parseChecked(text);
}

/** Inputs from this size on are decoded by decodeJsonSliced in slices; smaller ones in one go. */
export const SLICED_FROM_BYTES = 64 * 1024;
/** Bytes UTF-8-decoded and scanned per event-loop turn (0.05-0.7 ms each on the 2-core box). */
const SLICE_BYTES = 64 * 1024;
/** Values visited per event-loop turn by the post-parse walk. */
const WALK_SLICE = 16 * 1024;

/**
 * decodeJson for large inputs without one long event-loop task: same value, same errors, in the
 * same order of precedence (invalid UTF-8, then nesting, then syntax, then the reviver's
 * refusals). The longest task left is the plain JSON.parse.
 */
export async function decodeJsonSliced(input: Uint8Array): Promise<unknown> {
  if (input.length < SLICED_FROM_BYTES) return decodeJson(input);
  // A decoder per call: streaming keeps a split multi-byte sequence between slices.
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const nesting = new NestingScan(MAX_JSON_DEPTH);
  const pieces: string[] = [];
  for (let at = 0; at < input.length; at += SLICE_BYTES) {
    const end = Math.min(at + SLICE_BYTES, input.length);
    let piece: string;
    try {
      piece = decoder.decode(input.subarray(at, end), { stream: end < input.length });
    } catch {
      throw decodeError('invalid UTF-8', input.length);
    }
    // Keep decoding past too deep a nesting: invalid UTF-8 further on is the answer then.
    nesting.scan(piece);
    pieces.push(piece);
    await turn();
  }
  if (nesting.exceeded) throw tooDeep();
  // The one copy into a flat string in a turn of its own: JSON.parse would otherwise flatten a
  // rope first, in its own task (~6 ms of the ~13 for 1 MB here, most of it page faults).
  const text = pieces.join('');
  await turn();
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw decodeError(describeJsonError(err));
  }
  await turn();
  // The walk looks for what the reviver refuses (forbidden keys, lone surrogates in keys and
  // strings). If it finds any, the reviver parse gives the answer, naming the same key as
  // decodeJson (its post-order may reach another refusal first).
  if (await mayBeRefused(value)) return parseChecked(text);
  return value;
}

/** True if some key or string in `root` might be refused by the reviver. */
async function mayBeRefused(root: unknown): Promise<boolean> {
  const stack: unknown[] = [root];
  let visited = 0;
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (ANY_SURROGATE.test(value) && LONE_SURROGATE.test(value)) return true;
    } else if (Array.isArray(value)) {
      for (const item of value as unknown[]) if (typeof item === 'string' || (typeof item === 'object' && item !== null)) stack.push(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (FORBIDDEN_KEYS.has(key) || LONE_SURROGATE.test(key)) return true;
        if (typeof item === 'string' || (typeof item === 'object' && item !== null)) stack.push(item);
      }
    }
    if (++visited % WALK_SLICE === 0) await turn();
  }
  return false;
}
