import {
  agentBucket,
  bucketKeys,
  bucketKind,
  expandIpv6,
  ipBucket,
  ipSubject,
  isValidBucket,
  namedAgentBucket,
  namedIpBucket,
} from '@agentauth/ratelimit';

describe('rate-limit bucket naming', () => {
  it('names agent, IP and named buckets with their kind first', () => {
    const id = '0b0e7a43-5d3c-4c7e-9f39-1f6a3b1c2d4e';
    expect(agentBucket(id)).toBe(`agent:${id}`);
    expect(ipBucket('203.0.113.7')).toBe('ip:203.0.113.7');
    expect(namedIpBucket('bootstrap', '203.0.113.7')).toBe('bootstrap:ip:203.0.113.7');
    expect(namedAgentBucket('exports', id)).toBe(`exports:agent:${id}`);
    expect(bucketKind(agentBucket(id))).toBe('agent');
    expect(bucketKind(ipBucket('2001:db8::1'))).toBe('ip');
    expect(bucketKind(namedIpBucket('bootstrap', '::1'))).toBe('bootstrap');
    expect(bucketKind('plain')).toBe('plain');
  });

  it('keeps a bucket and its marker in one Redis hash slot', () => {
    expect(bucketKeys('ip:203.0.113.7')).toEqual({
      log: 'rl:{ip:203.0.113.7}',
      rejected: 'rl:{ip:203.0.113.7}:rejected',
    });
  });

  it('counts IPv4 by address, IPv6 by /64, IPv4-mapped IPv6 as IPv4', () => {
    expect(ipSubject('198.51.100.4')).toBe('198.51.100.4');
    expect(ipSubject('2001:db8:aa:1::1')).toBe('2001:db8:aa:1::/64');
    expect(ipSubject('2001:0DB8:00aa:0001:ffff:1:2:3')).toBe('2001:db8:aa:1::/64');
    expect(ipSubject('2001:db8:aa:2::1')).toBe('2001:db8:aa:2::/64');
    expect(ipSubject('::1')).toBe('0:0:0:0::/64');
    expect(ipSubject('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(ipSubject('::ffff:192.0.2.9')).toBe('192.0.2.9');
    expect(ipSubject('not an ip')).toBe('unknown');
    expect(ipSubject('')).toBe('unknown');
  });

  it('expands IPv6 with :: anywhere and an IPv4 tail', () => {
    expect(expandIpv6('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(expandIpv6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(expandIpv6('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(expandIpv6('64:ff9b::192.0.2.33')).toEqual([0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221]);
  });

  it('accepts only bounded names without braces or spaces', () => {
    expect(isValidBucket(ipBucket('2001:db8::1'))).toBe(true);
    expect(isValidBucket(agentBucket('0b0e7a43-5d3c-4c7e-9f39-1f6a3b1c2d4e'))).toBe(true);
    expect(isValidBucket('')).toBe(false);
    expect(isValidBucket('ip:{x}')).toBe(false);
    expect(isValidBucket('a b')).toBe(false);
    expect(isValidBucket('x'.repeat(201))).toBe(false);
  });
});
