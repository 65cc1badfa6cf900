import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Addresses a workflow's HTTP step must not reach: loopback, private, link-local (cloud metadata),
 * carrier-grade NAT, documentation, multicast and reserved ranges, in IPv4 and IPv6, including IPv6 forms
 * that embed an IPv4 address (IPv4-mapped, NAT64, 6to4).
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** The IPv4 address an IPv6 address carries (IPv4-mapped/compatible, NAT64 64:ff9b::/96, 6to4 2002::/16). */
function embeddedIpv4(ipv6: string): string | undefined {
  const groups = expandIpv6(ipv6);
  if (!groups) return undefined;
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (zeros(0, 5) && (groups[5] === 0xffff || groups[5] === 0)) return v4(groups[6], groups[7]);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return v4(groups[6], groups[7]);
  if (groups[0] === 0x2002) return v4(groups[1], groups[2]);
  return undefined;
}

function expandIpv6(address: string): number[] | undefined {
  let text = address.split('%')[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = text.slice(0, -dotted[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const fill = tail === undefined ? [] : Array<number>(8 - left.length - right.length).fill(0);
  const groups = [...left, ...fill, ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : undefined;
}

export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(address);
    return blocked.check(address.split('%')[0], 'ipv6') || (v4 !== undefined && blocked.check(v4, 'ipv4'));
  }
  return true;
}

export class SsrfBlockedError extends Error {
  constructor(host: string, address: string) {
    super(`refused to connect to ${host} (${address}): private, loopback, link-local or reserved address`);
    this.name = 'SsrfBlockedError';
  }
}

/** Parses HTTP_STEP_ALLOW_HOSTS: hostnames or IP literals that may be reached even when private. */
export function allowListFrom(value: string | undefined): Set<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  );
}

const bare = (host: string) => host.replace(/^\[|\]$/g, '').toLowerCase();

/** Checks a URL's host (resolving names) before any connection; literal IPs never reach DNS. */
export async function assertReachable(url: URL, allow: Set<string>): Promise<void> {
  const host = bare(url.hostname);
  if (allow.has(host)) return;
  const addresses = isIP(host) ? [host] : (await lookupAll(host)).map((a) => a.address);
  const bad = addresses.find(isBlockedAddress);
  if (bad) throw new SsrfBlockedError(host, bad);
}

function lookupAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );
}

/**
 * A `lookup` for the HTTP client's sockets: the address actually connected to is checked, so a name that
 * resolves differently the second time (DNS rebinding) is still refused.
 */
export function guardedLookup(allow: Set<string>) {
  return (
    hostname: string,
    options: object,
    callback: (
      error: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      if (!allow.has(bare(hostname))) {
        const bad = addresses.find((a) => isBlockedAddress(a.address));
        if (bad)
          return callback(Object.assign(new SsrfBlockedError(hostname, bad.address), { code: 'ESSRF' }), []);
      }
      if ((options as { all?: boolean }).all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
