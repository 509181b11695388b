// Checks every host a download connects to (the first URL and each redirect target) against the
// address policy, and pins what it checked: the Agent's `lookup` answers only with the addresses
// that passed, so a second DNS answer (rebinding) cannot send the connection somewhere else.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { InferdError } from '../errors.js';
import { classifyAddress, isMetadataHost } from './address-policy.js';
import { redact } from './url.js';

/** Resolves a host name to all its addresses (default: the system resolver, like a connect would). */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

export interface HostGuardOptions {
  /** Allow loopback, private, link-local, CGNAT and ULA addresses (`pull_allow_private`). */
  allowPrivate?: boolean | undefined;
  resolve?: ResolveHost | undefined;
}

const systemResolve: ResolveHost = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

export class HostGuard {
  readonly #allowPrivate: boolean;
  readonly #resolve: ResolveHost;
  readonly #pins = new Map<string, LookupAddress[]>();

  constructor(options: HostGuardOptions = {}) {
    this.#allowPrivate = options.allowPrivate ?? false;
    this.#resolve = options.resolve ?? systemResolve;
  }

  /**
   * Throws `url_not_allowed` unless every address of `url`'s host is allowed; pins them for the
   * connection. DNS failures are rethrown as they are, so retry rules treat them as before.
   */
  async admit(url: URL): Promise<void> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0) {
      // An IP literal is connected to directly (no lookup happens); check it as it is.
      this.#check(url, host, [host]);
      return;
    }
    if (isMetadataHost(host)) throw this.#refuse(url, host, 'metadata');
    const pinned = this.#pins.get(host);
    if (pinned) return;
    const answers = await this.#resolve(host);
    if (answers.length === 0) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    this.#check(url, host, answers.map((a) => a.address));
    this.#pins.set(host, answers);
  }

  /** For `connect.lookup` of the Agent: only ever answers with pinned, checked addresses. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const answers = this.#pins.get(hostname);
    if (!answers) {
      const err = Object.assign(new Error(`refusing to connect to ${hostname}: its address was not checked`), { code: 'EINFERDUNCHECKED' });
      process.nextTick(() => callback(err, '', 0));
      return;
    }
    const family = typeof options === 'object' && options.family ? Number(options.family === 'IPv6' ? 6 : options.family === 'IPv4' ? 4 : options.family) : 0;
    const usable = family === 4 || family === 6 ? answers.filter((a) => a.family === family) : answers;
    if (typeof options === 'object' && options.all) {
      process.nextTick(() => (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, usable));
    } else {
      const first = usable[0];
      if (!first) {
        const err = Object.assign(new Error(`no checked address of family ${family} for ${hostname}`), { code: 'ENOTFOUND' });
        process.nextTick(() => callback(err, '', 0));
        return;
      }
      process.nextTick(() => callback(null, first.address, first.family));
    }
  };

  #check(url: URL, host: string, addresses: string[]): void {
    for (const address of addresses) {
      const verdict = classifyAddress(address);
      if (verdict === 'metadata') throw this.#refuse(url, host, 'metadata', address);
      if (verdict === 'private' && !this.#allowPrivate) throw this.#refuse(url, host, 'private', address);
    }
  }

  #refuse(url: URL, host: string, why: 'private' | 'metadata', address?: string): InferdError {
    const at = address !== undefined && address !== host ? ` (${address})` : '';
    const hint =
      why === 'metadata'
        ? 'cloud metadata endpoints are never fetched'
        : 'loopback, private, link-local, CGNAT and ULA addresses are refused; set pull_allow_private: true for a LAN mirror';
    return new InferdError('url_not_allowed', `refusing to download from ${redact(url)}: ${host}${at} is a ${why} address; ${hint}`, {
      detail: { reason: why === 'metadata' ? 'metadata_address' : 'private_address', host, ...(address === undefined ? {} : { address }) },
    });
  }
}
