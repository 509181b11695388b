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

/** Deepest [ / { nesting, strings skipped; stops early past `limit`. Linear, no recursion. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

// Without the `u` flag the regex sees UTF-16 code units, so it can find an unpaired half.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function reviver(this: unknown, key: string, value: unknown): unknown {
  if (FORBIDDEN_KEYS.has(key)) throw decodeError(`forbidden key ${JSON.stringify(key)}`);
  if (typeof value === 'string' && LONE_SURROGATE.test(value)) throw decodeError('lone surrogate in a string');
  if (LONE_SURROGATE.test(key)) throw decodeError('lone surrogate in a key');
  return value;
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
  if (nestingDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw decodeError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text, reviver) as unknown;
  } catch (err) {
    if (err instanceof InferdError) throw err;
    throw decodeError(describeJsonError(err));
  }
}
