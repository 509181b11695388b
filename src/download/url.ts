// Model URLs: only absolute https:// URLs are fetched, and a URL is shown (messages, logs, status
// frames) without userinfo or query, since signed URLs carry secrets there.
import { InferdError } from '../errors.js';
import { quoteBounded } from '../store/names.js';

/** Throws unless `url` is an absolute https:// URL. Runs before any I/O to that URL. */
export function assertHttpsUrl(url: string, what = 'model URL'): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InferdError('download_failed', `${what} is not a valid URL: ${quoteBounded(url, 200)}`, { detail: { reason: 'invalid_url' } });
  }
  if (parsed.protocol !== 'https:') {
    throw new InferdError('download_failed', `${what} must be https:// (got ${quoteBounded(redact(parsed), 200)})`, {
      detail: { reason: 'insecure_url' },
    });
  }
  return parsed;
}

/**
 * URL for messages, logs and status frames: scheme, host, port and path only. Userinfo, query
 * and fragment are dropped (signed URLs carry tokens in the query, and `user:pass@` is a secret).
 */
export function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

