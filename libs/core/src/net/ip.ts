import { BlockList, isIP } from 'node:net';

/** `::ffff:10.0.0.1` → `10.0.0.1`, so IPv4 rules match IPv4 clients reached over a dual-stack socket. */
export function normalizeIp(ip: string): string {
  const trimmed = ip.trim();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  return mapped ? mapped[1] : trimmed;
}

export function isValidCidr(cidr: string): boolean {
  const [address, prefix, ...rest] = cidr.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** A compiled set of IPv4/IPv6 CIDRs (node:net BlockList); a bare address is a /32 or /128. */
export class CidrSet {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      if (!isValidCidr(cidr)) throw new Error(`invalid CIDR: ${cidr}`);
      const [address, prefix] = cidr.split('/');
      const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
      const bits = prefix === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefix);
      this.list.addSubnet(address, bits, family);
    }
    this.size = cidrs.length;
  }

  contains(ip: string | undefined): boolean {
    if (!ip || this.size === 0) return false;
    const address = normalizeIp(ip);
    const family = isIP(address);
    if (family === 0) return false;
    return this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * The client IP (CONTRACT §1): the socket address, unless that socket is a trusted proxy, in which case
 * X-Forwarded-For is walked from the right, skipping trusted proxies, and the first untrusted hop wins.
 */
export function clientIpFrom(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: CidrSet,
): string {
  const socketIp = normalizeIp(socketAddress ?? '');
  if (!trustedProxies.contains(socketIp) || !forwardedFor) return socketIp;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const hops = header
    .split(',')
    .map((h) => normalizeIp(h))
    .filter((h) => isIP(h) !== 0);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!trustedProxies.contains(hops[i])) return hops[i];
  }
  return hops[0] ?? socketIp;
}
