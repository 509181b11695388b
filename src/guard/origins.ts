// Which web origins may talk to the daemon from a browser: `cors_origins` exactly, or by default
// the loopback origins on any port. The same answer drives CORS headers and the CSRF check on
// requests that change something.

const LOOPBACK_ORIGIN = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/;

export class OriginPolicy {
  readonly #exact: Set<string> | null;

  constructor(corsOrigins: readonly string[] | undefined) {
    this.#exact = corsOrigins === undefined ? null : new Set(corsOrigins.map((origin) => origin.toLowerCase().replace(/\/$/, '')));
  }

  /** Whether a browser page at `origin` may read answers and send requests. */
  allows(origin: string): boolean {
    const value = origin.toLowerCase();
    return this.#exact ? this.#exact.has(value) : LOOPBACK_ORIGIN.test(value);
  }

  describe(): string {
    return this.#exact ? [...this.#exact].join(', ') || '(none)' : 'loopback origins on any port (default)';
  }
}
