// The HTTP side of model downloads: an undici Agent that trusts extra CAs (never one that
// skips verification), and a GET that follows redirects by hand so every hop is re-checked
// for https:// before any connection to it is made.
import { readFile } from 'node:fs/promises';
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { Agent, request, type Dispatcher } from 'undici';
import { InferdError } from '../errors.js';
import type { HostGuard } from './host-guard.js';
import { assertHttpsUrl, redact } from './url.js';
import { quoteBounded } from '../store/names.js';

export { assertHttpsUrl, redact } from './url.js';

export interface HttpTimeouts {
  /** TCP + TLS handshake. Default 30 s (contract §3.3). */
  connectMs: number;
  /** From request sent to response headers received. */
  headersMs: number;
  /** Longest gap between two body chunks (an idle timeout, not a total one). */
  bodyIdleMs: number;
}

export const DEFAULT_TIMEOUTS: HttpTimeouts = { connectMs: 30_000, headersMs: 30_000, bodyIdleMs: 60_000 };
export const DEFAULT_MAX_REDIRECTS = 5;

export interface AgentOptions {
  /** Extra PEM certificates trusted on top of Node's bundled roots. */
  caPem?: string | string[] | undefined;
  /** Name resolution for connections: HostGuard.lookup, so connections use the checked addresses. */
  lookup?: LookupFunction | undefined;
  timeouts?: Partial<HttpTimeouts> | undefined;
}

/** An Agent for downloads. The caller owns it and closes it. */
export function createDownloadAgent(options: AgentOptions = {}): Agent {
  const t = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const extra = options.caPem === undefined ? [] : Array.isArray(options.caPem) ? options.caPem : [options.caPem];
  return new Agent({
    connect: {
      timeout: t.connectMs,
      ...(options.lookup ? { lookup: options.lookup } : {}),
      // Verification stays on; extra CAs are added to the roots, never replace them.
      ...(extra.length > 0 ? { ca: [...rootCertificates, ...extra] } : {}),
    },
    headersTimeout: t.headersMs,
    bodyTimeout: t.bodyIdleMs,
  });
}

/** Reads `ca_file` for `createDownloadAgent`; a missing or non-PEM file is a config error. */
export async function readCaFile(path: string): Promise<string> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    throw new InferdError('config_invalid', `cannot read ca_file ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new InferdError('config_invalid', `ca_file ${path} holds no PEM certificate`);
  }
  return pem;
}

export interface OpenedResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** The URL that answered, after redirects. */
  finalUrl: string;
}

export interface OpenOptions {
  dispatcher: Dispatcher;
  headers: Record<string, string>;
  signal?: AbortSignal | undefined;
  timeouts: HttpTimeouts;
  maxRedirects: number;
  /** Checks (and pins) the host of the first URL and of every redirect target before connecting. */
  guard?: HostGuard | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** GET `url`, following up to `maxRedirects` redirects, each re-validated as https. */
export async function openGet(url: string, options: OpenOptions): Promise<OpenedResponse> {
  let current = assertHttpsUrl(url);
  for (let hop = 0; ; hop++) {
    await options.guard?.admit(current);
    const res = await request(current, {
      method: 'GET',
      dispatcher: options.dispatcher,
      headers: options.headers,
      signal: options.signal,
      headersTimeout: options.timeouts.headersMs,
      bodyTimeout: options.timeouts.bodyIdleMs,
    });
    if (!REDIRECTS.has(res.statusCode)) {
      return { statusCode: res.statusCode, headers: res.headers, body: res.body, finalUrl: current.href };
    }
    await res.body.dump();
    const location = header(res.headers, 'location');
    if (!location) {
      throw new InferdError('download_failed', `HTTP ${res.statusCode} redirect without a Location header from ${redact(current)}`, {
        detail: { reason: 'bad_redirect', status: res.statusCode },
      });
    }
    if (hop + 1 > options.maxRedirects) {
      throw new InferdError('download_failed', `too many redirects (more than ${options.maxRedirects}) starting at ${redact(new URL(url))}`, {
        detail: { reason: 'too_many_redirects' },
      });
    }
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new InferdError('download_failed', `redirect to an invalid URL ${quoteBounded(location, 200)}`, { detail: { reason: 'bad_redirect' } });
    }
    if (next.protocol !== 'https:') {
      throw new InferdError('download_failed', `refusing redirect from ${redact(current)} to non-https ${quoteBounded(redact(next), 200)}`, {
        detail: { reason: 'insecure_redirect' },
      });
    }
    current = next;
  }
}

/** A single header value (first one when repeated). */
export function header(headers: OpenedResponse['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Parses `Content-Range: bytes <start>-<end>/<total|*>`. */
export function parseContentRange(value: string | undefined): { start: number; end: number; total: number | null } | null {
  if (!value) return null;
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim());
  if (!m) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === '*' ? null : Number(m[3]);
  if (end < start || (total !== null && end >= total)) return null;
  return { start, end, total };
}

export function parseLength(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value.trim())) return null;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : null;
}
