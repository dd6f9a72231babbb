/**
 * Timing rules of the signing-key set (docs/tokens.md, "Signing keys"). They are protocol safety margins,
 * not tunables, so they live in code.
 */

/** Every process reloads its key ring at least this often (the fallback when a pub/sub message is lost). */
export const KEY_RING_REFRESH_INTERVAL_MS = 30_000;

/**
 * Longest time a process may run on a stale key ring (one refresh interval). Added to the publish-before-sign
 * delay (so every process serves a new key in JWKS a full max-age before any signs with it) and to
 * `retire_after` (a lagging process may sign with the old key until it notices the change).
 */
export const KEY_PROPAGATION_SECONDS = KEY_RING_REFRESH_INTERVAL_MS / 1000;

/** Clock skew tolerated on `exp`, `nbf` and `iat` when verifying, and added to `retire_after`. */
export const CLOCK_SKEW_SECONDS = 30;

/**
 * Reloads asked for by traffic (an unknown `kid`, no key able to sign) happen at most once per this interval
 * and process: garbage tokens must not turn into database load.
 */
export const DEMAND_REFRESH_INTERVAL_MS = 5_000;

/** Tokens longer than this are rejected before any parsing. */
export const MAX_TOKEN_LENGTH = 8192;
