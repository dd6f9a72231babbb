import fc from 'fast-check';
import { GlobMatcher } from '@agentauth/policies';

/** The reference semantics: the glob as an anchored, escaped RegExp (fine for short test inputs). */
function reference(glob: string): RegExp {
  const body = glob
    .split('*')
    .map((chunk) => chunk.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
    .join('[\\s\\S]*');
  return new RegExp(`^${body}$`);
}

describe('GlobMatcher', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything:at/all', true],
    ['**', 'x', true],
    ['files:read', 'files:read', true],
    ['files:read', 'files:rea', false],
    ['files:read', 'files:reads', false],
    ['files:*', 'files:', true],
    ['files:*', 'files:read:own', true],
    ['files:*', 'files', false],
    ['*:read', 'files:read', true],
    ['*:read', 'files:write', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'acb', false],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['ab*ba', 'aba', false],
    ['ab*ba', 'abba', true],
    ['*aa*aa*', 'aaaa', true],
    ['*aa*aa*', 'aaa', false],
    ['x*y*z*', 'xyz', true],
    ['x***y', 'xy', true],
    ['a.b', 'a.b', true],
    ['a.b', 'aXb', false],
    ['(a|b)', 'a', false],
    ['(a|b)', '(a|b)', true],
    ['[ab]+', 'a', false],
    ['[ab]+', '[ab]+', true],
    ['^x$', '^x$', true],
    ['a\\*', 'a\\zzz', true],
    ['a?', 'ab', false],
    ['a?', 'a?', true],
  ])('%s matches %j: %s', (glob, value, expected) => {
    expect(new GlobMatcher(glob).matches(value)).toBe(expected);
  });

  it('exposes literal and match-all forms for indexing', () => {
    expect(new GlobMatcher('files:read').literal).toBe('files:read');
    expect(new GlobMatcher('files:*').literal).toBeNull();
    expect(new GlobMatcher('*').matchesAll).toBe(true);
    expect(new GlobMatcher('***').matchesAll).toBe(true);
    expect(new GlobMatcher('a*').matchesAll).toBe(false);
  });

  it('stays fast on globs that make a backtracking RegExp explode', () => {
    const glob = new GlobMatcher(`${'*a'.repeat(40)}*b`);
    const value = 'a'.repeat(10_000);
    const started = process.hrtime.bigint();
    expect(glob.matches(value)).toBe(false);
    // Generous bound (a backtracking regex takes effectively forever here): catches a regression to RegExp.
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
  });

  describe('open inputs (a value ending in * stands for every extension)', () => {
    it.each([
      ['files:delete', 'files:', 1, true],
      ['files:', 'files:', 1, false],
      ['files:', 'files:', 0, true],
      ['files', 'files:', 1, false],
      ['files:*:own', 'files:', 1, true],
      ['f*', 'files:', 1, true],
      ['*:delete', 'files:', 1, true],
      ['crm:*', 'files:', 1, false],
      ['filesystem:*', 'files:', 1, false],
      ['files:read*', 'files:', 1, true],
      ['anything', '', 1, true],
      ['https://x/*', '', 0, true],
    ] as const)('%s meets an extension of %j (min %d extra): %s', (glob, prefix, minExtra, expected) => {
      expect(new GlobMatcher(glob).matchesSomeExtension(prefix, minExtra)).toBe(expected);
    });
  });
});

describe('GlobMatcher properties', () => {
  // Small alphabets with regex metacharacters so that matches, near-misses and escapes all occur.
  const char = fc.constantFrom('a', 'b', ':', '.', '(', '|', '[', '\\', '$', '+', '?');
  const text = fc.array(char, { maxLength: 10 }).map((c) => c.join(''));
  const glob = fc
    .array(fc.oneof(char, fc.constant('*')), { minLength: 1, maxLength: 8 })
    .map((c) => c.join(''));

  it('agrees with the escaped-RegExp reference semantics', () => {
    fc.assert(
      fc.property(glob, text, (g, value) => new GlobMatcher(g).matches(value) === reference(g).test(value)),
      { numRuns: 5000 },
    );
  });

  it('agrees with the reference on values built to match (so positives are exercised too)', () => {
    fc.assert(
      fc.property(glob, fc.array(text, { minLength: 8, maxLength: 8 }), (g, fillers) => {
        let i = 0;
        const value = g.replace(/\*/g, () => fillers[i++ % fillers.length]);
        return new GlobMatcher(g).matches(value) && reference(g).test(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('matchesSomeExtension is exact: true iff some bounded extension of the prefix matches', () => {
    const small = fc.constantFrom('a', 'b', ':');
    const smallGlob = fc
      .array(fc.oneof(small, fc.constant('*')), { minLength: 1, maxLength: 5 })
      .map((c) => c.join(''));
    const prefix = fc.array(small, { maxLength: 3 }).map((c) => c.join(''));
    // All strings over {a, b, :} up to length 6: long enough to hold a witness for globs of length ≤ 5.
    const extensions: string[] = [''];
    for (let length = 1; length <= 6; length++) {
      for (const base of extensions.filter((e) => e.length === length - 1))
        for (const c of 'ab:') extensions.push(base + c);
    }
    fc.assert(
      fc.property(smallGlob, prefix, fc.constantFrom(0 as const, 1 as const), (g, p, minExtra) => {
        const matcher = new GlobMatcher(g);
        const brute = extensions.some((x) => x.length >= minExtra && matcher.matches(p + x));
        return matcher.matchesSomeExtension(p, minExtra) === brute;
      }),
      { numRuns: 3000 },
    );
  });
});
