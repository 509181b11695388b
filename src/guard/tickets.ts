// Single-use tickets for the admin streams. A browser EventSource cannot send an Authorization
// header, so a page with an admin key trades it for a short-lived ticket and puts that in the
// URL (`/admin/status?ticket=…`). A ticket is spent by its first use and expires unused.
import { createHash, randomBytes } from 'node:crypto';

export const TICKET_TTL_SECONDS = 60;
/** Unused tickets pile up only if someone mints many; past this, the oldest go first. */
const MAX_OUTSTANDING = 1024;

export class TicketStore {
  /** Digest of the ticket → expiry (ms since epoch). Insertion order is age order. */
  readonly #tickets = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  issue(): { ticket: string; expires_in: number } {
    this.#sweep();
    if (this.#tickets.size >= MAX_OUTSTANDING) {
      const oldest = this.#tickets.keys().next().value;
      if (oldest !== undefined) this.#tickets.delete(oldest);
    }
    const ticket = randomBytes(32).toString('base64url');
    this.#tickets.set(digest(ticket), this.#now() + TICKET_TTL_SECONDS * 1000);
    return { ticket, expires_in: TICKET_TTL_SECONDS };
  }

  /** True once for a live ticket; it is gone afterwards, whatever the answer. */
  consume(ticket: string): boolean {
    const key = digest(ticket);
    const expires = this.#tickets.get(key);
    this.#tickets.delete(key);
    return expires !== undefined && expires > this.#now();
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, expires] of this.#tickets) if (expires <= now) this.#tickets.delete(key);
  }
}

function digest(ticket: string): string {
  return createHash('sha256').update(ticket).digest('hex');
}
