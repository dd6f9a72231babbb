import fc from 'fast-check';
import { CidrSet } from '@agentauth/core';
import { CidrMatcher, newIpWords, parseIp } from '@agentauth/policies';

function matches(cidrs: string[], ip: string): boolean {
  const words = newIpWords();
  return parseIp(ip, words) && new CidrMatcher(cidrs).contains(words);
}

describe('CidrMatcher', () => {
  it.each([
    [['10.1.2.0/24'], '10.1.2.0', true],
    [['10.1.2.0/24'], '10.1.2.255', true],
    [['10.1.2.0/24'], '10.1.1.255', false],
    [['10.1.2.0/24'], '10.1.3.0', false],
    [['10.1.2.3/8'], '10.200.0.1', true], // host bits ignored
    [['0.0.0.0/0'], '255.255.255.255', true],
    [['0.0.0.0/0'], '2001:db8::1', false],
    [['192.0.2.1'], '192.0.2.1', true],
    [['192.0.2.1'], '192.0.2.2', false],
    [['10.0.0.0/8'], '::ffff:10.1.2.3', true],
    [['10.0.0.0/8'], '::FFFF:a01:203', true],
    [['10.0.0.0/8'], '::10.1.2.3', false], // IPv4-compatible is not IPv4-mapped
    [['::ffff:10.0.0.0/104'], '10.9.9.9', true],
    [['::/0'], '10.9.9.9', true],
    [['2001:db8:abcd::/48'], '2001:db8:abcd::', true],
    [['2001:db8:abcd::/48'], '2001:db8:abcd:ffff:ffff:ffff:ffff:ffff', true],
    [['2001:db8:abcd::/48'], '2001:db8:abce::', false],
    [['2001:db8:abcd::/48'], '2001:db8:abcc:ffff:ffff:ffff:ffff:ffff', false],
    [['2001:db8::/32'], '2001:0DB8:0000:0000:0000:0000:0000:0001', true],
    [['fe80::/10'], 'fe80::1%eth0', true],
    [['::1'], '::1', true],
    [['::1'], '::2', false],
    [['2001:db8::1/127'], '2001:db8::', true],
    [['2001:db8::/127'], '2001:db8::2', false],
    [['10.0.0.0/8', '2001:db8::/32'], '2001:db8:1::1', true],
    [['10.0.0.0/8'], ' 10.0.0.1 ', true],
  ])('%j contains %s: %s', (cidrs, ip, expected) => {
    expect(matches(cidrs, ip)).toBe(expected);
    expect(new CidrSet(cidrs).contains(ip)).toBe(expected); // the reference agrees
  });

  it('refuses what is not an address', () => {
    const words = newIpWords();
    for (const bad of ['', 'garbage', '10.0.0.256', '1.2.3', '2001:db8::g', '10.0.0.1/8']) {
      expect(parseIp(bad, words)).toBe(false);
    }
    expect(() => new CidrMatcher(['10.0.0.0/33'])).toThrow();
  });
});

describe('CidrMatcher agrees with core CidrSet (node:net BlockList)', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
  const group = fc.integer({ min: 0, max: 0xffff }).map((g) => g.toString(16));
  const v6Groups = fc.array(group, { minLength: 8, maxLength: 8 });
  /** Several spellings of IPv6: full, `::`-compressed, upper case, IPv4-mapped (dotted and hex), zoned. */
  const v6 = fc.oneof(
    v6Groups.map((g) => g.join(':')),
    fc.tuple(v6Groups, fc.nat(7), fc.nat(7)).map(([g, a, b]) => {
      const [from, to] = a <= b ? [a, b] : [b, a];
      return `${g.slice(0, from).join(':')}::${g.slice(to + 1).join(':')}`;
    }),
    v6Groups.map((g) => g.join(':').toUpperCase()),
    v4.map((a) => `::ffff:${a}`),
    fc.tuple(group, group).map(([a, b]) => `::ffff:${a}:${b}`),
    fc.tuple(group, group).map(([a, b]) => `2001:db8::${a}:${b}`),
    v6Groups.map((g) => `${g.join(':')}%eth0`),
  );
  const address = fc.oneof(v4, v6);
  const cidr = fc.oneof(
    fc.tuple(v4, fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`),
    fc.tuple(v6, fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a.replace(/%.*/, '')}/${p}`),
    address.map((a) => a.replace(/%.*/, '')),
  );

  it('on random ranges and addresses', () => {
    fc.assert(
      fc.property(fc.array(cidr, { minLength: 1, maxLength: 4 }), address, (cidrs, ip) => {
        expect(matches(cidrs, ip)).toBe(new CidrSet(cidrs).contains(ip));
      }),
      { numRuns: 3000 },
    );
  });

  it('on addresses near the range (same leading bits), where the edges are', () => {
    fc.assert(
      fc.property(address, fc.integer({ min: 0, max: 128 }), address, (base, prefix, other) => {
        const clean = base.replace(/%.*/, '');
        const isV4 = !clean.includes(':');
        const bits = isV4 ? Math.min(prefix, 32) : prefix;
        const cidrs = [`${clean}/${bits}`];
        // The base itself is always inside its own range; a random other address tests the outside.
        expect(matches(cidrs, base)).toBe(true);
        expect(new CidrSet(cidrs).contains(base)).toBe(true);
        expect(matches(cidrs, other)).toBe(new CidrSet(cidrs).contains(other));
      }),
      { numRuns: 2000 },
    );
  });

  it('at the first and last address of IPv4 ranges and one step outside', () => {
    const dotted = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 1, max: 32 }), (n, prefix) => {
        const size = 2 ** (32 - prefix);
        const first = Math.floor(n / size) * size;
        const last = first + size - 1;
        const cidrs = [`${dotted(first)}/${prefix}`];
        const set = new CidrSet(cidrs);
        for (const [ip, inside] of [
          [first, true],
          [last, true],
          [first - 1, false],
          [last + 1, false],
        ] as const) {
          if (ip < 0 || ip > 0xffffffff) continue;
          expect(matches(cidrs, dotted(ip))).toBe(inside);
          expect(set.contains(dotted(ip))).toBe(inside);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
