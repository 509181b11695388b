// `trust_proxy`: which peers may tell us the client's address, host, proto and path prefix
// through X-Forwarded-*. One trust function feeds both Fastify (request.ip, .host, .protocol)
// and our own reading of X-Forwarded-Prefix, so they never disagree.
import { BlockList, isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { InferdConfig } from '../config/schema.js';
import { InferdError } from '../errors.js';

export type TrustProxy = InferdConfig['trust_proxy'];
/** Fastify's trustProxy function form: is the hop at `index` (0 = the socket peer) trusted? */
export type TrustFn = (address: string, index: number) => boolean;

/** Names accepted in a trust list besides addresses and CIDRs. */
const ALIASES: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  private: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** Addresses whose trust answer is remembered at most (then the memory starts over). */
const TRUST_CACHE_ENTRIES = 1024;

/** `::ffff:10.0.0.1` → `10.0.0.1`. */
function plainAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4 ? lower.slice(7) : lower;
}

/** Checks the entries of a trust list; throws on anything that is not an address or CIDR. */
export function compileTrustList(entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const raw of entries.flatMap((entry) => ALIASES[entry.trim().toLowerCase()] ?? [entry.trim()])) {
    const [address = '', bits] = raw.split('/');
    const family = isIP(address);
    if (family === 0) throw new InferdError('config_invalid', `trust_proxy: "${raw}" is not an IP address or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(address, type);
    else {
      const prefix = Number(bits);
      if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128)) throw new InferdError('config_invalid', `trust_proxy: "${raw}" has a bad prefix length`);
      list.addSubnet(address, prefix, type);
    }
  }
  // BlockList.check builds a SocketAddress on every call, and Fastify asks again for each of
  // request.ip, .host and .protocol: that was most of the guard's cost on a cheap route
  // (bench/guard-overhead). The same few proxy and client addresses come back all the time, so
  // answers are remembered; the cache is bounded because forwarded hops are client-chosen.
  const known = new Map<string, boolean>();
  return (address) => {
    let trusted = known.get(address);
    if (trusted === undefined) {
      const plain = plainAddress(address);
      const family = isIP(plain);
      trusted = family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
      if (known.size >= TRUST_CACHE_ENTRIES) known.clear();
      known.set(address, trusted);
    }
    return trusted;
  };
}

/**
 * The trust function, or false for none. A hop count trusts that many hops nearest to us,
 * whoever they are: use it only when nothing but the proxy can reach the port.
 */
export function trustFunction(trust: TrustProxy): TrustFn | false {
  if (trust === false) return false;
  if (typeof trust === 'number') return (_address, index) => index < trust;
  const trusted = compileTrustList(trust);
  return (address) => trusted(address);
}

/** Whether the peer that sent this request is a trusted proxy. */
export function trustedPeer(fn: TrustFn | false): (request: FastifyRequest) => boolean {
  if (fn === false) return () => false;
  return (request) => {
    const address = request.socket?.remoteAddress;
    return address !== undefined && fn(address, 0);
  };
}
