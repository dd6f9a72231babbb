import { OFFLINE_ACCESS } from './built-in-scopes';

/**
 * The scope algebra (CONTRACT §6): the one implementation of "does A cover B", intersection and subset
 * that agents, credentials, delegations, grants, policies and the Bearer guard all use.
 *
 * Grammar: one or more `:`-separated segments; a segment is one or more dot-separated words
 * (`crm.contacts`), a word is lower-case `[a-z0-9]` followed by `[a-z0-9_-]*`. So `files:read`,
 * `crm.contacts:write`, `billing-v2:invoices_read` are names; `Files:read`, `a..b:c`, `a.:b`, `a::b`, `:a`,
 * `a:` are not. A final segment `*` makes a wildcard: `files:*` covers every scope strictly below the prefix
 * (`files:read`, `files:read:own`, `files:read:*`) but not `files` itself, and a bare `*` is not a name (so no
 * single scope can mean "everything"). `offline_access` is a reserved request word (RFC 6749 usage), never a
 * scope name: it cannot be registered, granted or checked (CONTRACT §4).
 *
 * The relations below (`covers`, `coveredBy`, `isSubset`, `intersect`, `normalize`) are defined on valid
 * names; validate input at the edge with `isValidScopeName` before relying on them.
 */
const WORD = '[a-z0-9][a-z0-9_-]*';
const SEGMENT = new RegExp(`^${WORD}(?:\\.${WORD})*$`);
export const MAX_SCOPE_LENGTH = 128;

export function isValidScopeName(scope: string): boolean {
  if (typeof scope !== 'string' || scope.length === 0 || scope.length > MAX_SCOPE_LENGTH) return false;
  if (scope === OFFLINE_ACCESS) return false;
  const segments = scope.split(':');
  return segments.every(
    (segment, i) => SEGMENT.test(segment) || (segment === '*' && i === segments.length - 1 && i > 0),
  );
}

/** A wildcard scope (`files:*`): its final segment is `*`. */
export function isWildcard(scope: string): boolean {
  return scope.endsWith(':*');
}

/**
 * Does the granted scope `a` cover the scope `b`? Reflexive and transitive; a wildcard covers every name
 * strictly below its prefix, narrower wildcards included, and never its own prefix.
 */
export function covers(a: string, b: string): boolean {
  if (a === b) return true;
  if (!isWildcard(a)) return false;
  const prefixLength = a.length - 1; // keeps the trailing ':'
  if (b.length <= prefixLength) return false;
  // Char loop instead of startsWith(slice): allocation-free on the Bearer guard's and evaluator's hot path.
  for (let i = 0; i < prefixLength; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false;
  return true;
}

/** Is `scope` covered by any of `granted`? */
export function coveredBy(scope: string, granted: readonly string[]): boolean {
  for (const g of granted) if (covers(g, scope)) return true;
  return false;
}

/** Is every scope of `requested` covered by `granted`? (The attenuation test: requested ⊆ granted.) */
export function isSubset(requested: readonly string[], granted: readonly string[]): boolean {
  return requested.every((scope) => coveredBy(scope, granted));
}

/** The scopes of `requested` that `granted` does not cover (for precise error messages). */
export function uncovered(requested: readonly string[], granted: readonly string[]): string[] {
  return requested.filter((scope) => !coveredBy(scope, granted));
}

/**
 * Intersection: exactly the scopes covered by both sets, expressed with the narrower of each covering pair,
 * normalized. `intersect(['files:*'], ['files:read'])` = `['files:read']`. Exact because two scopes that cover
 * a common scope always cover one another (wildcards are prefixes), so every common scope is covered by the
 * narrower member of some comparable pair.
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

/** Sorted, de-duplicated, without scopes already covered by another member of the set. Preserves coverage. */
export function normalize(scopes: readonly string[]): string[] {
  const unique = [...new Set(scopes)];
  return unique.filter((s) => !unique.some((other) => other !== s && covers(other, s))).sort();
}

/**
 * Space-separated `scope` parameter (RFC 6749 §3.3) → list, de-duplicated, in request order; empty or only
 * spaces → []. Only U+0020 separates: any other whitespace stays inside a token and fails validation.
 * `offline_access` is returned like any other token; use `parseScopeRequest` to split it off.
 */
export function parseScopeParam(value: string | undefined | null): string[] {
  if (!value) return [];
  return [...new Set(value.split(' ').filter((s) => s.length > 0))];
}

/**
 * A token request's `scope` parameter: the scopes to check, and whether `offline_access` (a refresh token)
 * was asked for. `offline_access` never reaches the scope checks or the policies (CONTRACT §4).
 */
export function parseScopeRequest(value: string | undefined | null): {
  scopes: string[];
  offlineAccess: boolean;
} {
  const tokens = parseScopeParam(value);
  const scopes = tokens.filter((s) => s !== OFFLINE_ACCESS);
  return { scopes, offlineAccess: scopes.length !== tokens.length };
}

export function formatScopeParam(scopes: readonly string[]): string {
  return [...scopes].join(' ');
}
