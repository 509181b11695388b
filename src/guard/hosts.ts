// The Host allow-list against DNS rebinding: a page on evil.example whose name later resolves
// to 127.0.0.1 still sends `Host: evil.example`. Loopback names and literals pass on any port;
// anything else must be in `allowed_hosts` (exact, or `*.example.com` for its subdomains).
import { isIP } from 'node:net';

/** The name of a Host header value without its port (`[::1]:8080` → `::1`), lowercased. */
export function hostName(host: string): string | null {
  const value = host.trim().toLowerCase();
  if (value === '') return null;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    if (end < 0) return null;
    const rest = value.slice(end + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return null;
    return value.slice(1, end);
  }
  const colon = value.indexOf(':');
  if (colon >= 0) {
    if (!/^:\d{1,5}$/.test(value.slice(colon))) return null;
    return value.slice(0, colon);
  }
  return value.replace(/\.$/, '');
}

export function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name === '::1') return true;
  return isIP(name) === 4 && name.startsWith('127.');
}

/** Whether a bind address is loopback-only (what the bind policy lets run without keys). */
export function isLoopbackBind(host: string): boolean {
  return isLoopbackName(host.toLowerCase().replace(/^\[|\]$/g, ''));
}

export class HostPolicy {
  readonly #exact = new Set<string>();
  readonly #suffixes: string[] = [];

  /**
   * @param allowed `allowed_hosts` from the config.
   * @param bindHost the bind address: a specific address (not 0.0.0.0 or ::) is its own name.
   */
  constructor(allowed: readonly string[], bindHost: string) {
    for (const entry of allowed) {
      const name = entry.toLowerCase();
      if (name.startsWith('*.')) this.#suffixes.push(name.slice(1));
      else this.#exact.add(hostName(name) ?? name);
    }
    const bind = bindHost.toLowerCase().replace(/^\[|\]$/g, '');
    if (isIP(bind) && bind !== '0.0.0.0' && bind !== '::') this.#exact.add(bind);
  }

  allows(host: string | undefined): boolean {
    if (host === undefined) return false;
    const name = hostName(host);
    if (name === null) return false;
    if (isLoopbackName(name) || this.#exact.has(name)) return true;
    return this.#suffixes.some((suffix) => name.endsWith(suffix) && name.length > suffix.length);
  }
}
