import { promises as dns } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** Why a webhook target is refused (shown to the caller at subscription, logged at delivery). */
export class WebhookTargetRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'WebhookTargetRefused';
  }
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Name resolution used for webhook targets (injectable: `WEBHOOK_RESOLVER`; tests swap it). */
export type WebhookResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const WEBHOOK_RESOLVER = Symbol('WEBHOOK_RESOLVER');

/** Every address the system resolver gives for a name (as `dns.lookup(host, { all: true })`). */
export const systemResolver: WebhookResolver = (hostname) =>
  dns.lookup(hostname, { all: true, verbatim: true });

// IPv4 ranges that are not the public internet (RFC 6890 special-purpose registry, the parts that matter).
const IPV4_FORBIDDEN: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared address space'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignment'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

// IPv6: only global unicast (2000::/3) is acceptable, minus these.
const IPV6_FORBIDDEN_IN_GLOBAL: [string, number, string][] = [
  ['2001::', 23, 'IETF protocol assignment'],
  ['2001:db8::', 32, 'documentation'],
  ['2002::', 16, '6to4'],
  ['3fff::', 20, 'documentation'],
];

function rangeList(ranges: [string, number, string][], family: 'ipv4' | 'ipv6') {
  return ranges.map(([address, prefix, label]) => {
    const list = new BlockList();
    list.addSubnet(address, prefix, family);
    return { list, label };
  });
}

const ipv4Ranges = rangeList(IPV4_FORBIDDEN, 'ipv4');
const ipv6Ranges = rangeList(IPV6_FORBIDDEN_IN_GLOBAL, 'ipv6');

/** The 8 16-bit groups of an IPv6 address (embedded dotted IPv4 allowed), or undefined. */
export function ipv6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    if (isIP(dotted[1]) !== 4) return undefined;
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string) => (s === '' ? [] : s.split(':'));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

/**
 * Why `address` is not an acceptable webhook destination (loopback, private, link-local, unique-local,
 * multicast, unspecified, reserved…), or null when it is a public unicast address. IPv4-mapped IPv6
 * addresses are judged as the IPv4 address they carry. Anything unparseable is refused.
 */
export function forbiddenAddressReason(address: string): string | null {
  const family = isIP(address);
  if (family === 4) {
    const hit = ipv4Ranges.find((r) => r.list.check(address, 'ipv4'));
    if (address === '255.255.255.255') return 'broadcast';
    return hit ? hit.label : null;
  }
  const groups = family === 6 ? ipv6Groups(address) : undefined;
  if (!groups) return 'not an IP address';
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMapped) {
    const v4 = [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
    return forbiddenAddressReason(v4);
  }
  if (groups.every((g) => g === 0)) return 'unspecified';
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return 'loopback';
  if ((groups[0] & 0xffc0) === 0xfe80) return 'link-local';
  if ((groups[0] & 0xfe00) === 0xfc00) return 'unique-local';
  if ((groups[0] & 0xff00) === 0xff00) return 'multicast';
  if ((groups[0] & 0xe000) !== 0x2000) return 'not global unicast';
  const canonical = groups.map((g) => g.toString(16)).join(':');
  const hit = ipv6Ranges.find((r) => r.list.check(canonical, 'ipv6'));
  return hit ? hit.label : null;
}

/** The host of a URL without IPv6 brackets. */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/**
 * A webhook URL as the API accepts it: absolute http(s), no credentials, at most 2048 characters. The
 * WHATWG parser normalises numeric IPv4 forms (`http://2130706433/` → `127.0.0.1`), so they are judged
 * as the address they denote.
 */
export function parseWebhookUrl(raw: string): URL {
  if (raw.length > 2048) throw new WebhookTargetRefused('the URL is longer than 2048 characters');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookTargetRefused('not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookTargetRefused('only http and https URLs are allowed');
  }
  if (url.username || url.password) throw new WebhookTargetRefused('the URL must not contain credentials');
  if (!bareHostname(url)) throw new WebhookTargetRefused('the URL has no host');
  return url;
}

function isLocalhostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * Resolves a webhook URL's host and checks EVERY address it resolves to. Returns the address to connect
 * to: the caller must connect to exactly that address (not re-resolve the name), so a DNS answer that
 * changes between the check and the connection (rebinding) cannot redirect the request.
 * With `allowPrivate` (WEBHOOK_ALLOW_PRIVATE_TARGETS) the range checks are skipped.
 */
export async function vetWebhookTarget(
  url: URL,
  resolver: WebhookResolver,
  allowPrivate: boolean,
): Promise<ResolvedAddress> {
  const host = bareHostname(url);
  const refuse = (address: string, reason: string) =>
    new WebhookTargetRefused(
      `the target ${address === host ? address : `${host} (${address})`} is a ${reason} address; only public addresses are allowed`,
    );
  const literal = isIP(host);
  if (literal !== 0) {
    const reason = allowPrivate ? null : forbiddenAddressReason(host);
    if (reason) throw refuse(host, reason);
    return { address: host, family: literal };
  }
  if (!allowPrivate && isLocalhostName(host)) throw refuse(host, 'loopback');
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolver(host);
  } catch {
    throw new WebhookTargetRefused(`the host ${host} could not be resolved`);
  }
  if (addresses.length === 0) throw new WebhookTargetRefused(`the host ${host} could not be resolved`);
  if (!allowPrivate) {
    for (const { address } of addresses) {
      const reason = forbiddenAddressReason(address);
      if (reason) throw refuse(address, reason);
    }
  }
  return addresses[0];
}
