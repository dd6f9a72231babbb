import { isIP } from 'node:net';
import { isValidCidr } from '@agentauth/core';

/**
 * IP ranges for policy conditions, matched arithmetically. Same semantics as core's `CidrSet` (node:net
 * BlockList) — IPv4 and IPv4-mapped IPv6 (`::ffff:a.b.c.d`, in any spelling) are one address, a bare address
 * is a /32 or /128, host bits of a CIDR are ignored, an IPv6 zone (`%eth0`) is ignored — which a property
 * test checks against `CidrSet`. It exists because `BlockList.check` allocates a SocketAddress per call: a
 * decision parses the client IP once (`parseIp`) and each policy then costs a few integer comparisons.
 *
 * Every address is held as 128 bits in four unsigned 32-bit words; IPv4 as `::ffff:0:0/96` + the address.
 */
export type IpWords = Uint32Array;

export function newIpWords(): IpWords {
  return new Uint32Array(4);
}

function parseIpv4(text: string): number {
  let value = 0;
  let octet = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 46 /* . */) {
      value = value * 256 + octet;
      octet = 0;
    } else {
      octet = octet * 10 + (code - 48);
    }
  }
  return (value * 256 + octet) >>> 0;
}

function pushGroups(part: string, groups: number[]): void {
  if (part.length === 0) return;
  for (const group of part.split(':')) {
    if (group.includes('.')) {
      const v4 = parseIpv4(group);
      groups.push(v4 >>> 16, v4 & 0xffff);
    } else {
      groups.push(parseInt(group, 16));
    }
  }
}

/**
 * Parses an IPv4 or IPv6 address (surrounding spaces and an IPv6 zone ignored) into `out`; false when it
 * is not an address, `out` then unspecified.
 */
export function parseIp(ip: string, out: IpWords): boolean {
  const text = ip.trim();
  const family = isIP(text);
  if (family === 4) {
    out[0] = 0;
    out[1] = 0;
    out[2] = 0xffff;
    out[3] = parseIpv4(text);
    return true;
  }
  if (family !== 6) return false;
  const zone = text.indexOf('%');
  const address = zone < 0 ? text : text.slice(0, zone);
  const gap = address.indexOf('::');
  const head: number[] = [];
  const tail: number[] = [];
  if (gap < 0) {
    pushGroups(address, head);
  } else {
    pushGroups(address.slice(0, gap), head);
    pushGroups(address.slice(gap + 2), tail);
  }
  const groups = new Array<number>(8).fill(0);
  for (let i = 0; i < head.length; i++) groups[i] = head[i];
  for (let i = 0; i < tail.length; i++) groups[8 - tail.length + i] = tail[i];
  for (let w = 0; w < 4; w++) out[w] = ((groups[2 * w] << 16) | groups[2 * w + 1]) >>> 0;
  return true;
}

/** A compiled list of CIDRs (validated with core's `isValidCidr`). */
export class CidrMatcher {
  /** Per range: four network words then the prefix length in 128-bit terms. */
  private readonly ranges: Uint32Array;
  readonly size: number;

  constructor(cidrs: readonly string[]) {
    this.size = cidrs.length;
    this.ranges = new Uint32Array(cidrs.length * 5);
    const words = newIpWords();
    cidrs.forEach((cidr, r) => {
      if (!isValidCidr(cidr)) throw new Error(`invalid CIDR: ${cidr}`);
      const [address, prefix] = cidr.split('/');
      const v4 = isIP(address) === 4;
      parseIp(address, words);
      const bits = prefix === undefined ? 128 : Number(prefix) + (v4 ? 96 : 0);
      for (let w = 0; w < 4; w++) this.ranges[r * 5 + w] = (words[w] & maskFor(bits, w)) >>> 0;
      this.ranges[r * 5 + 4] = bits;
    });
  }

  /** Is the parsed address inside any range? */
  contains(ip: IpWords): boolean {
    const ranges = this.ranges;
    for (let offset = 0; offset < ranges.length; offset += 5) {
      const bits = ranges[offset + 4];
      if (
        (ip[0] & maskFor(bits, 0)) >>> 0 === ranges[offset] &&
        (ip[1] & maskFor(bits, 1)) >>> 0 === ranges[offset + 1] &&
        (ip[2] & maskFor(bits, 2)) >>> 0 === ranges[offset + 2] &&
        (ip[3] & maskFor(bits, 3)) >>> 0 === ranges[offset + 3]
      ) {
        return true;
      }
    }
    return false;
  }
}

/** The mask of word `w` (0..3) for a 128-bit prefix length. */
function maskFor(bits: number, w: number): number {
  const inWord = bits - 32 * w;
  if (inWord <= 0) return 0;
  if (inWord >= 32) return 0xffffffff;
  return (0xffffffff << (32 - inWord)) >>> 0;
}
