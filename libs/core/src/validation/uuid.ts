/**
 * THE UUID rule: the RFC 9562 (formerly RFC 4122) text form — 8-4-4-4-12 hex digits, any version (the
 * database type accepts every version), either case. Every UUID check of the server calls this; callers
 * that store or compare an id lower-case it (PostgreSQL renders `uuid` in lower case).
 */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID string (any version, either case). Not a type guard: a `string` that fails it is still a string. */
export function isUuid(value: unknown): boolean {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/**
 * A UUID exactly as this server writes it: lower case. Claims of a token this server signed always have
 * this form, so a mixed-case id there means the claims were not written by us (refused, never normalized).
 */
export function isLowerCaseUuid(value: unknown): boolean {
  return typeof value === 'string' && isUuid(value) && value === value.toLowerCase();
}
