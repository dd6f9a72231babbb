/** Timing of the revocation mirror (docs/tokens.md, "Revocation state"). */

/** How often each process checks that Redis still holds the state (and rebuilds it when not). */
export const REVOCATION_PROBE_INTERVAL_MS = 5_000;

/**
 * Markers stay (in Redis and PostgreSQL) this long past their `expires_at`: verifiers accept a token up to
 * 30 s past its `exp` (clock skew), so a `jti` marker must outlive that.
 */
export const REVOCATION_EXPIRY_GRACE_MS = 60_000;

/** Rows per PostgreSQL read and Redis write while rebuilding. */
export const REVOCATION_REBUILD_CHUNK = 1_000;

/** The cross-process rebuild lock expires on its own if its holder dies. */
export const REVOCATION_REBUILD_LOCK_TTL_MS = 60_000;
