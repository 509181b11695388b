// SSRF policy of model downloads: which addresses a model URL may reach. A model URL comes from
// a config file, `inferd pull` or (later) an HTTP pull, so a hostile one must not be able to make
// the daemon fetch from this machine, the LAN or a cloud metadata service. Private ranges are
// allowed with `pull_allow_private` (LAN mirrors, tests); metadata endpoints never are, since no
// model mirror lives there and they hand out credentials.
import { BlockList, isIP } from 'node:net';

/**
 * Ranges refused unless private pulls are allowed. One list per family: a BlockList matches IPv4
 * addresses against IPv6 rules such as `::ffff:0:0/96`, which would make every IPv4 address private.
 */
const PRIVATE_V4 = new BlockList();
const PRIVATE_V6 = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local (cloud metadata lives here)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  PRIVATE_V4.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128], // unspecified
  ['::1', 128],
  ['::', 96], // IPv4-compatible (deprecated)
  ['::ffff:0:0', 96], // IPv4-mapped: refused whatever v4 address it carries
  ['64:ff9b::', 96], // NAT64
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // ULA
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  PRIVATE_V6.addSubnet(net, bits, 'ipv6');
}

/** Cloud metadata endpoints: refused even when private pulls are allowed. */
const METADATA_V4 = new BlockList();
METADATA_V4.addAddress('169.254.169.254', 'ipv4');
METADATA_V4.addAddress('169.254.170.2', 'ipv4'); // ECS task credentials
METADATA_V4.addAddress('100.100.100.200', 'ipv4'); // Alibaba
const METADATA_V6 = new BlockList();
METADATA_V6.addAddress('fd00:ec2::254', 'ipv6');
const METADATA_HOSTS: ReadonlySet<string> = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'instance-data.ec2.internal']);

export type AddressVerdict = 'public' | 'private' | 'metadata';

/** Classifies one IP literal (v4 or v6, without brackets). A non-IP string is refused as private. */
export function classifyAddress(address: string): AddressVerdict {
  const family = isIP(address);
  if (family === 0) return 'private';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if ((family === 4 ? METADATA_V4 : METADATA_V6).check(address, type)) return 'metadata';
  // An IPv4-mapped address also counts as its IPv4 for the metadata list.
  const mapped = family === 6 ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
  if (mapped !== undefined && METADATA_V4.check(mapped, 'ipv4')) return 'metadata';
  return (family === 4 ? PRIVATE_V4 : PRIVATE_V6).check(address, type) ? 'private' : 'public';
}

/** True for a host name that names a metadata service (compared without a trailing dot). */
export function isMetadataHost(hostname: string): boolean {
  return METADATA_HOSTS.has(hostname.toLowerCase().replace(/\.$/, ''));
}
