/**
 * What can be revoked. A token references several of these (its `jti`, its agent, credential, refresh
 * family, delegation, and for exchanged tokens the subject token's `jti`, …); it is dead when any matches.
 */
export const REVOCATION_KINDS = [
  'jti',
  'credential',
  'agent',
  'family',
  'delegation',
  'resource_server',
] as const;
export type RevocationKind = (typeof REVOCATION_KINDS)[number];

/** A reference from a token to something that may be revoked. */
export interface RevocationRef {
  kind: RevocationKind;
  id: string;
}

/** A revocation to record. */
export interface RevocationMarker extends RevocationRef {
  /** When it took effect (default: now by the Clock). For `agent`: tokens issued at or before it are dead. */
  at?: Date;
  /**
   * After this instant nothing can match the marker any more and it may be purged (`jti`: the token's `exp`).
   * `null`/absent = kept forever.
   */
  expiresAt?: Date | null;
}

/** A marker as stored (after merging with what was already there). */
export interface StoredMarker {
  kind: RevocationKind;
  id: string;
  revokedAtMs: number;
  expiresAtMs: number | null;
}

/**
 * Kinds whose marker kills only tokens issued at or before it: an agent can be re-activated after a
 * suspension, and its new tokens must live. Every other kind is final (a revoked credential, family,
 * delegation or token never comes back), so any marker kills every token that references it — also one
 * minted a moment after the revocation by a request that raced it.
 */
const ISSUED_BEFORE_KINDS: ReadonlySet<RevocationKind> = new Set<RevocationKind>(['agent']);

/** The one rule: does a marker revoked at `revokedAtMs` kill a token issued at `issuedAtSec` (JWT `iat`)? */
export function markerRevokes(kind: RevocationKind, revokedAtMs: number, issuedAtSec: number): boolean {
  if (!ISSUED_BEFORE_KINDS.has(kind)) return true;
  // `iat` has whole seconds: a token of the same second as the revocation counts as issued before it.
  return !(revokedAtMs < issuedAtSec * 1000);
}

export const MAX_SUBJECT_ID_LENGTH = 200;

export function isRevocationKind(value: unknown): value is RevocationKind {
  return typeof value === 'string' && (REVOCATION_KINDS as readonly string[]).includes(value);
}

function checkRef(ref: RevocationRef): void {
  if (!isRevocationKind(ref.kind)) throw new TypeError(`unknown revocation kind "${String(ref.kind)}"`);
  if (typeof ref.id !== 'string' || ref.id.length === 0 || ref.id.length > MAX_SUBJECT_ID_LENGTH) {
    throw new TypeError(`a ${ref.kind} revocation needs an id of 1..${MAX_SUBJECT_ID_LENGTH} characters`);
  }
}

export function checkRefs(refs: readonly RevocationRef[]): void {
  for (const ref of refs) checkRef(ref);
}

/**
 * Validates markers and merges duplicates the way the database does (latest `at`; `null` expiry wins,
 * else the latest), sorted by (kind, id) so concurrent batches lock rows in the same order.
 */
export function normalizeMarkers(markers: readonly RevocationMarker[], now: Date): StoredMarker[] {
  const merged = new Map<string, StoredMarker>();
  for (const marker of markers) {
    checkRef(marker);
    const at = marker.at ?? now;
    if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new TypeError('invalid revocation time');
    const expiresAt = marker.expiresAt ?? null;
    if (expiresAt !== null && (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime()))) {
      throw new TypeError('invalid revocation expiry');
    }
    const next: StoredMarker = {
      kind: marker.kind,
      id: marker.id,
      revokedAtMs: at.getTime(),
      expiresAtMs: expiresAt ? expiresAt.getTime() : null,
    };
    const key = `${marker.kind}\u0000${marker.id}`;
    const previous = merged.get(key);
    merged.set(key, previous ? mergeMarkers(previous, next) : next);
  }
  return [...merged.values()].sort((a, b) =>
    a.kind !== b.kind ? (a.kind < b.kind ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
}

export function mergeMarkers(a: StoredMarker, b: StoredMarker): StoredMarker {
  return {
    kind: a.kind,
    id: a.id,
    revokedAtMs: Math.max(a.revokedAtMs, b.revokedAtMs),
    expiresAtMs:
      a.expiresAtMs === null || b.expiresAtMs === null ? null : Math.max(a.expiresAtMs, b.expiresAtMs),
  };
}
