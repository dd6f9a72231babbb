import fc from 'fast-check';
import {
  covers,
  coveredBy,
  formatScopeParam,
  intersect,
  isSubset,
  isValidScopeName,
  isWildcard,
  normalize,
  parseScopeParam,
  uncovered,
} from '@agentauth/scopes';

// A small vocabulary so that generated scopes often cover one another.
const segment = fc.constantFrom('a', 'b', 'files', 'read', 'crm.contacts', 'x-1');
const concrete = fc.array(segment, { minLength: 1, maxLength: 4 }).map((segments) => segments.join(':'));
const wildcard = fc
  .array(segment, { minLength: 1, maxLength: 3 })
  .map((segments) => `${segments.join(':')}:*`);
const scope = fc.oneof(concrete, wildcard);
const scopes = fc.array(scope, { maxLength: 6 });
/** Probes: every scope the laws quantify over is drawn from the same space. */
const probes = fc.array(scope, { minLength: 1, maxLength: 20 });

const runs = { numRuns: 500 };

/** Coverage-equivalent sets: each covers the other. */
function sameCoverage(a: readonly string[], b: readonly string[]): boolean {
  return isSubset(a, b) && isSubset(b, a);
}

describe('scope algebra laws', () => {
  it('generates valid names only (the laws below are about valid names)', () => {
    fc.assert(
      fc.property(scope, (s) => isValidScopeName(s)),
      runs,
    );
  });

  it('covers is reflexive', () => {
    fc.assert(
      fc.property(scope, (s) => covers(s, s)),
      runs,
    );
  });

  it('covers is transitive', () => {
    fc.assert(
      fc.property(scope, scope, scope, (a, b, c) => !(covers(a, b) && covers(b, c)) || covers(a, c)),
      { numRuns: 3000 },
    );
  });

  it('covers is antisymmetric', () => {
    fc.assert(
      fc.property(scope, scope, (a, b) => !(covers(a, b) && covers(b, a)) || a === b),
      { numRuns: 2000 },
    );
  });

  it('a wildcard covers every scope below its prefix, never the prefix itself', () => {
    fc.assert(
      fc.property(concrete, concrete, (prefix, rest) => {
        const w = `${prefix}:*`;
        return !covers(w, prefix) && covers(w, `${prefix}:${rest}`) && covers(w, `${prefix}:${rest}:*`);
      }),
      runs,
    );
  });

  it('only a wildcard covers anything but itself', () => {
    fc.assert(
      fc.property(scope, scope, (a, b) => isWildcard(a) || !covers(a, b) || a === b),
      runs,
    );
  });

  it('two scopes that cover a common scope cover one another (why intersect is exact)', () => {
    fc.assert(
      fc.property(
        scope,
        scope,
        scope,
        (a, b, c) => !(covers(a, c) && covers(b, c)) || covers(a, b) || covers(b, a),
      ),
      { numRuns: 3000 },
    );
  });

  it('isSubset ⇔ every element covered ⇔ nothing uncovered', () => {
    fc.assert(
      fc.property(scopes, scopes, (a, b) => {
        const every = a.every((s) => b.some((g) => covers(g, s)));
        return isSubset(a, b) === every && (uncovered(a, b).length === 0) === every;
      }),
      runs,
    );
  });

  it('uncovered lists exactly the elements not covered', () => {
    fc.assert(
      fc.property(scopes, scopes, (a, b) => {
        const missing = uncovered(a, b);
        return a.every((s) => missing.includes(s) === !coveredBy(s, b));
      }),
      runs,
    );
  });

  it('isSubset is reflexive and transitive', () => {
    fc.assert(
      fc.property(
        scopes,
        scopes,
        scopes,
        (a, b, c) => isSubset(a, a) && (!(isSubset(a, b) && isSubset(b, c)) || isSubset(a, c)),
      ),
      runs,
    );
  });

  it('intersection ⊆ both operands (every element covered by both)', () => {
    fc.assert(
      fc.property(scopes, scopes, (a, b) => {
        const i = intersect(a, b);
        return i.every((s) => coveredBy(s, a) && coveredBy(s, b));
      }),
      runs,
    );
  });

  it('intersection covers exactly what both operands cover (it is the greatest lower bound)', () => {
    fc.assert(
      fc.property(scopes, scopes, probes, (a, b, ps) => {
        const i = intersect(a, b);
        return ps.every((p) => coveredBy(p, i) === (coveredBy(p, a) && coveredBy(p, b)));
      }),
      runs,
    );
  });

  it('intersection is commutative (identical normalized output, so also up to coverage)', () => {
    fc.assert(
      fc.property(scopes, scopes, (a, b) => {
        const ab = intersect(a, b);
        const ba = intersect(b, a);
        return JSON.stringify(ab) === JSON.stringify(ba) && sameCoverage(ab, ba);
      }),
      runs,
    );
  });

  it('intersection is associative up to coverage, idempotent, and the empty set absorbs', () => {
    fc.assert(
      fc.property(scopes, scopes, scopes, (a, b, c) => {
        return (
          sameCoverage(intersect(intersect(a, b), c), intersect(a, intersect(b, c))) &&
          sameCoverage(intersect(a, a), a) &&
          intersect(a, []).length === 0
        );
      }),
      runs,
    );
  });

  it('intersection is monotonic: a ⊆ b ⇒ a ∩ c ⊆ b ∩ c', () => {
    fc.assert(
      fc.property(
        scopes,
        scopes,
        scopes,
        (a, b, c) => !isSubset(a, b) || isSubset(intersect(a, c), intersect(b, c)),
      ),
      runs,
    );
  });

  it('a ⊆ b ⇔ a ∩ b has the coverage of a', () => {
    fc.assert(
      fc.property(scopes, scopes, (a, b) => isSubset(a, b) === sameCoverage(intersect(a, b), a)),
      runs,
    );
  });

  it('normalize preserves coverage, is idempotent, sorted, and leaves no redundant member', () => {
    fc.assert(
      fc.property(scopes, probes, (a, ps) => {
        const n = normalize(a);
        const sorted = [...n].sort();
        return (
          ps.every((p) => coveredBy(p, n) === coveredBy(p, a)) &&
          sameCoverage(n, a) &&
          JSON.stringify(normalize(n)) === JSON.stringify(n) &&
          JSON.stringify(sorted) === JSON.stringify(n) &&
          n.every((s, i) => n.every((t, j) => i === j || !covers(t, s))) &&
          n.every((s) => a.includes(s))
        );
      }),
      runs,
    );
  });

  it('the scope parameter round-trips', () => {
    fc.assert(
      fc.property(
        scopes,
        (a) => JSON.stringify(parseScopeParam(formatScopeParam(a))) === JSON.stringify([...new Set(a)]),
      ),
      runs,
    );
  });
});
