import { CidrSet, clientIpFrom, isValidCidr, normalizeIp } from '@agentauth/core';

describe('CIDR matching and client IP', () => {
  it('validates CIDRs', () => {
    expect(isValidCidr('10.0.0.0/8')).toBe(true);
    expect(isValidCidr('2001:db8::/32')).toBe(true);
    expect(isValidCidr('10.0.0.1')).toBe(true);
    expect(isValidCidr('10.0.0.0/33')).toBe(false);
    expect(isValidCidr('2001:db8::/129')).toBe(false);
    expect(isValidCidr('nonsense/8')).toBe(false);
    expect(isValidCidr('10.0.0.0/8/9')).toBe(false);
  });

  it('matches IPv4 and IPv6 at the edges of a range', () => {
    const set = new CidrSet(['192.168.1.0/24', '2001:db8::/126']);
    expect(set.contains('192.168.1.0')).toBe(true);
    expect(set.contains('192.168.1.255')).toBe(true);
    expect(set.contains('192.168.2.0')).toBe(false);
    expect(set.contains('192.168.0.255')).toBe(false);
    expect(set.contains('2001:db8::3')).toBe(true);
    expect(set.contains('2001:db8::4')).toBe(false);
    expect(set.contains('::ffff:192.168.1.7')).toBe(true);
    expect(set.contains('garbage')).toBe(false);
  });

  it('normalizes IPv4-mapped IPv6 addresses', () => {
    expect(normalizeIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeIp('::1')).toBe('::1');
  });

  it('ignores X-Forwarded-For unless the socket peer is a trusted proxy', () => {
    const none = new CidrSet([]);
    expect(clientIpFrom('203.0.113.9', '1.2.3.4', none)).toBe('203.0.113.9');
    const trusted = new CidrSet(['10.0.0.0/8']);
    expect(clientIpFrom('203.0.113.9', '1.2.3.4', trusted)).toBe('203.0.113.9');
    expect(clientIpFrom('10.0.0.5', '1.2.3.4', trusted)).toBe('1.2.3.4');
    // A client-supplied first hop cannot hide the real client behind a chain of trusted proxies.
    expect(clientIpFrom('10.0.0.5', '6.6.6.6, 1.2.3.4, 10.0.0.7', trusted)).toBe('1.2.3.4');
    expect(clientIpFrom('::ffff:10.0.0.5', 'junk', trusted)).toBe('10.0.0.5');
  });
});
