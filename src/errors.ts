// The one error catalogue. Every error inferd raises on purpose is an InferdError with a code
// from this table; the table also says how the code looks on the wire (v1 frame code, HTTP
// status, OpenAI error type). Transports never invent codes of their own.

/** How one code is presented to clients. */
interface CodeSpec {
  /** HTTP status when the error happens before a response has started. */
  readonly status: number;
  /** The protocol-v1 `error.code` on the wire. Internal codes collapse onto the v1 set. */
  readonly wire: WireCode;
  /** OpenAI-style `error.type` for the /v1 routes. */
  readonly openaiType: string;
  /** Seconds for a Retry-After header, where a retry later is the right answer. */
  readonly retryAfter?: number;
  /** OpenAI-style `error.code` where OpenAI has its own name for the case (default: the wire code). */
  readonly openaiCode?: string;
}

/** The error codes protocol v1 (and our HTTP surface) puts on the wire. */
export type WireCode =
  | 'invalid_request'
  | 'queue_full'
  | 'backend_unavailable'
  | 'frame_too_large'
  | 'internal'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'host_not_allowed'
  | 'origin_not_allowed'
  | 'rate_limited'
  | 'unsupported_media_type'
  | 'model_not_found'
  | 'model_invalid';

const CATALOGUE = {
  // Wire codes of protocol v1 (contract §1.3), plus the HTTP-only ones of DESIGN.md.
  invalid_request: { status: 400, wire: 'invalid_request', openaiType: 'invalid_request_error' },
  unauthorized: { status: 401, wire: 'unauthorized', openaiType: 'authentication_error' },
  not_found: { status: 404, wire: 'not_found', openaiType: 'not_found_error' },
  // The edge guard (DESIGN.md "Growing the house"): refused before any route runs.
  forbidden: { status: 403, wire: 'forbidden', openaiType: 'permission_error' },
  host_not_allowed: { status: 403, wire: 'host_not_allowed', openaiType: 'permission_error' },
  origin_not_allowed: { status: 403, wire: 'origin_not_allowed', openaiType: 'permission_error' },
  rate_limited: { status: 429, wire: 'rate_limited', openaiType: 'rate_limit_error', retryAfter: 60 },
  unsupported_media_type: { status: 415, wire: 'unsupported_media_type', openaiType: 'invalid_request_error' },
  conflict: { status: 409, wire: 'invalid_request', openaiType: 'invalid_request_error' },
  frame_too_large: { status: 413, wire: 'frame_too_large', openaiType: 'invalid_request_error' },
  queue_full: { status: 429, wire: 'queue_full', openaiType: 'rate_limit_error', retryAfter: 1 },
  backend_unavailable: { status: 503, wire: 'backend_unavailable', openaiType: 'server_error', retryAfter: 1 },
  internal: { status: 500, wire: 'internal', openaiType: 'server_error' },
  // A model the caller named that does not exist: the OpenAI routes with `strict_model`, and a
  // reload or import of a missing file. HTTP-only wire code (DESIGN.md, "Growing the house").
  model_not_found: { status: 404, wire: 'model_not_found', openaiType: 'invalid_request_error', openaiCode: 'model_not_found' },
  // A file the caller named that is not a usable GGUF (unreadable, not a file, bad header): 422,
  // the request is well formed but what it points at cannot be served. At bring-up (the config's
  // model) the same code only ends in `failed{message}` and exit 1, as the contract says.
  model_invalid: { status: 422, wire: 'model_invalid', openaiType: 'invalid_request_error' },
  // A model URL whose host is refused by the download address policy (SSRF): the caller's input.
  url_not_allowed: { status: 400, wire: 'invalid_request', openaiType: 'invalid_request_error' },

  // Internal codes: raised by config, store, fetcher and engine. They reach clients only as
  // the wire code named here.
  config_invalid: { status: 500, wire: 'internal', openaiType: 'server_error' },
  model_load_failed: { status: 503, wire: 'backend_unavailable', openaiType: 'server_error' },
  reload_failed: { status: 500, wire: 'internal', openaiType: 'server_error' },
  model_missing: { status: 503, wire: 'backend_unavailable', openaiType: 'server_error' },
  download_failed: { status: 503, wire: 'backend_unavailable', openaiType: 'server_error' },
  checksum_mismatch: { status: 503, wire: 'backend_unavailable', openaiType: 'server_error' },
  store_invalid: { status: 500, wire: 'internal', openaiType: 'server_error' },
  lock_held: { status: 500, wire: 'internal', openaiType: 'server_error' },
  socket_error: { status: 500, wire: 'internal', openaiType: 'server_error' },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof CATALOGUE;

export interface InferdErrorOptions {
  cause?: unknown;
  /** Overrides the catalogue's Retry-After seconds for this instance. */
  retryAfter?: number;
  /** Extra machine-readable fields (for logs and CLI output; never echoed unbounded). */
  detail?: Record<string, unknown>;
}

export class InferdError extends Error {
  readonly code: ErrorCode;
  readonly retryAfter: number | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: InferdErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InferdError';
    this.code = code;
    const spec: CodeSpec = CATALOGUE[code];
    this.retryAfter = options.retryAfter ?? spec.retryAfter;
    this.detail = options.detail;
  }

  get status(): number {
    return CATALOGUE[this.code].status;
  }

  get wireCode(): WireCode {
    return CATALOGUE[this.code].wire;
  }

  get openaiType(): string {
    return CATALOGUE[this.code].openaiType;
  }

  get openaiCode(): string {
    const spec: CodeSpec = CATALOGUE[this.code];
    return spec.openaiCode ?? spec.wire;
  }
}

export function isInferdError(err: unknown): err is InferdError {
  return err instanceof InferdError;
}

/** Any thrown value as an InferdError; unknown failures become `internal`. */
export function toInferdError(err: unknown): InferdError {
  if (err instanceof InferdError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InferdError('internal', message, { cause: err });
}

/** The catalogue as data, for docs and for the test that keeps docs in step with the code. */
export function catalogue(): ReadonlyArray<{ code: ErrorCode } & CodeSpec> {
  return (Object.keys(CATALOGUE) as ErrorCode[]).map((code) => ({ code, ...CATALOGUE[code] }));
}
