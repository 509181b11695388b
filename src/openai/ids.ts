// Ids in the shapes OpenAI clients are used to: `chatcmpl-…`, `cmpl-…`, `call_…`.
import { randomBytes } from 'node:crypto';

export function openAiId(prefix: 'chatcmpl-' | 'cmpl-' | 'call_'): string {
  return prefix + randomBytes(15).toString('base64url');
}

/** Unix seconds, as `created` fields carry. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
