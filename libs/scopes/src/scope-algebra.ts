/**
 * The scope algebra (CONTRACT §6): the one implementation of "does A cover B", intersection and subset
 * that agents, credentials, delegations, grants, policies and the Bearer guard all use.
 *
 * Grammar: lower-case segments of [a-z0-9_-] (dots allowed inside a segment: `crm.contacts`) separated by
 * `:`; a final segment `*` covers every scope below its prefix (`files:*` covers `files:read` and
 * `files:read:own`, but not `files` itself).
 */
const SEGMENT = /^[a-z0-9][a-z0-9_.-]*$/;
export const MAX_SCOPE_LENGTH = 128;

export function isValidScopeName(scope: string): boolean {
  if (typeof scope !== 'string' || scope.length === 0 || scope.length > MAX_SCOPE_LENGTH) return false;
  const segments = scope.split(':');
  return segments.every(
    (segment, i) => SEGMENT.test(segment) || (segment === '*' && i === segments.length - 1 && i > 0),
  );
}

export function isWildcard(scope: string): boolean {
  return scope.endsWith(':*');
}

/** Does the granted scope `a` cover the scope `b`? Reflexive and transitive. */
export function covers(a: string, b: string): boolean {
  if (a === b) return true;
  if (!isWildcard(a)) return false;
  const prefix = a.slice(0, -1); // keeps the trailing ':'
  return b.startsWith(prefix) && b.length > prefix.length;
}

/** Is `scope` covered by any of `granted`? */
export function coveredBy(scope: string, granted: readonly string[]): boolean {
  for (const g of granted) if (covers(g, scope)) return true;
  return false;
}

/** Is every scope of `requested` covered by `granted`? */
export function isSubset(requested: readonly string[], granted: readonly string[]): boolean {
  return requested.every((scope) => coveredBy(scope, granted));
}

/** The scopes of `requested` that `granted` does not cover (for precise error messages). */
export function uncovered(requested: readonly string[], granted: readonly string[]): string[] {
  return requested.filter((scope) => !coveredBy(scope, granted));
}

/**
 * Intersection: every scope covered by both sets, expressed with the narrower of each covering pair.
 * `intersect(['files:*'], ['files:read'])` = `['files:read']`.
 */
export function intersect(a: readonly string[], b: readonly string[]): string[] {
  const out = new Set<string>();
  for (const x of a)
    for (const y of b) {
      if (covers(x, y)) out.add(y);
      else if (covers(y, x)) out.add(x);
    }
  return normalize([...out]);
}

/** Sorted, de-duplicated, without scopes already covered by another member of the set. */
export function normalize(scopes: readonly string[]): string[] {
  const unique = [...new Set(scopes)];
  return unique.filter((s) => !unique.some((other) => other !== s && covers(other, s))).sort();
}

/** Space-separated `scope` parameter (RFC 6749 §3.3) → list; empty or whitespace → []. */
export function parseScopeParam(value: string | undefined | null): string[] {
  if (!value) return [];
  return [...new Set(value.split(' ').filter((s) => s.length > 0))];
}

export function formatScopeParam(scopes: readonly string[]): string {
  return [...scopes].join(' ');
}
