import { isIP } from 'node:net';

/**
 * Bucket names: `<kind>:<subject>` (`agent:<uuid>`, `ip:<address>`) or `<name>:<kind>:<subject>` for a named
 * limit (`bootstrap:ip:203.0.113.7`). The kind (first segment) labels metrics and audit details.
 */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;

/** Characters a bucket name may hold: no braces (they delimit the Redis hash tag), no spaces, bounded. */
const BUCKET_NAME = /^[A-Za-z0-9._:/@-]{1,200}$/;

export function isValidBucket(bucket: string): boolean {
  return BUCKET_NAME.test(bucket);
}

/** `agent:<id>`: the per-agent limit (the token's actor, `client_id`). */
export function agentBucket(agentId: string): string {
  return `agent:${agentId}`;
}

/** `ip:<address or /64>`: unauthenticated calls and failed client authentication. */
export function ipBucket(ip: string): string {
  return `ip:${ipSubject(ip)}`;
}

/** A named limit counted per IP, e.g. `bootstrap:ip:203.0.113.7`. */
export function namedIpBucket(name: string, ip: string): string {
  return `${name}:ip:${ipSubject(ip)}`;
}

/** A named limit counted per agent, e.g. `exports:agent:<id>`. */
export function namedAgentBucket(name: string, agentId: string): string {
  return `${name}:agent:${agentId}`;
}

/** The first segment of a bucket: `agent`, `ip`, `bootstrap`, … (a metric label). */
export function bucketKind(bucket: string): string {
  const colon = bucket.indexOf(':');
  return colon === -1 ? bucket : bucket.slice(0, colon);
}

/** The Redis keys of one bucket: the sliding log and the first-rejection marker, in one hash slot. */
export function bucketKeys(bucket: string): { log: string; rejected: string } {
  return { log: `rl:{${bucket}}`, rejected: `rl:{${bucket}}:rejected` };
}

/**
 * What an IP limit counts: an IPv4 address as is; an IPv6 address by its /64 (one customer network gets
 * a whole /64, so per-address limits would be no limit at all); anything unparseable as `unknown`.
 */
export function ipSubject(ip: string): string {
  const address = ip.trim().replace(/%.*$/, '');
  const family = isIP(address);
  if (family === 4) return address;
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return mapped[1];
    return `${expandIpv6(address)
      .slice(0, 4)
      .map((g) => g.toString(16))
      .join(':')}::/64`;
  }
  return 'unknown';
}

/** The eight 16-bit groups of a valid IPv6 address (with `::` and an embedded IPv4 tail expanded). */
export function expandIpv6(address: string): number[] {
  let text = address.toLowerCase();
  const v4Tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4Tail) {
    const [a, b, c, d] = v4Tail.slice(1).map(Number);
    text = `${text.slice(0, v4Tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string | undefined) =>
    part
      ? part
          .split(':')
          .filter(Boolean)
          .map((g) => parseInt(g, 16))
      : [];
  const front = parse(head);
  const back = parse(tail);
  const zeros = tail === undefined ? 0 : 8 - front.length - back.length;
  return [...front, ...new Array<number>(zeros).fill(0), ...back];
}
