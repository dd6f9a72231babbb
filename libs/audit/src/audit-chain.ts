import { createHash } from 'node:crypto';
import type { AuditOutcome } from './audit-event';

/** `prev_hash` of the first event (seq 1): 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** An event ready to be chained: every field already sanitized and in its stored form. */
export interface PendingAuditEvent {
  /** uuid, generated before the event is queued (the idempotency key of a retried batch). */
  id: string;
  /** ISO 8601 UTC with milliseconds, e.g. `2026-01-02T03:04:05.000Z`. */
  occurredAt: string;
  eventType: string;
  outcome: AuditOutcome;
  actorAgentId: string | null;
  onBehalfOf: string | null;
  targetType: string | null;
  targetId: string | null;
  rootAgentId: string | null;
  ip: string | null;
  requestId: string | null;
  /** Plain JSON (what `sanitizeDetails` returns). */
  details: Record<string, unknown>;
}

/** An event as stored: its place in the chain and its hash. */
export interface RecordedAuditEvent extends PendingAuditEvent {
  seq: number;
  prevHash: string;
  hash: string;
}

export interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * RFC 8785 (JCS) canonical JSON of a plain JSON value: no whitespace, object members sorted by the UTF-16
 * code units of their names, strings and numbers serialized as ECMAScript's JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new Error('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
      const record = value as Record<string, unknown>;
      const members = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
      return `{${members.join(',')}}`;
    }
    default:
      throw new Error(`canonicalJson: unsupported ${typeof value}`);
  }
}

/**
 * An event's canonical text around its two chain fields: `head + prev_hash + middle + seq + tail`. The
 * members sort as actor_agent_id … outcome, **prev_hash**, request_id, root_agent_id, **seq**, target_id,
 * target_type, so the text splits there. The writer sends the three parts and the database completes and
 * hashes them under the chain lock (the `audit_append` function), in one round trip per batch.
 */
export interface CanonicalEventParts {
  head: string;
  middle: string;
  tail: string;
}

/** A text column as a JCS member value (JSON.stringify's string form, or null). */
function textValue(value: string | null): string {
  return value == null ? 'null' : JSON.stringify(value);
}

/**
 * Written out member by member in their sorted order (only `details` needs the general canonicalJson): the
 * same text as `canonicalJson` of the whole object — a unit test holds them equal — without sorting keys or
 * building member arrays for every event on the token path (docs/performance.md, "Fifth session").
 */
export function canonicalEventParts(event: PendingAuditEvent): CanonicalEventParts {
  return {
    head:
      `{"actor_agent_id":${textValue(event.actorAgentId)},"details":${canonicalJson(event.details)}` +
      `,"event_type":${textValue(event.eventType)},"id":${textValue(event.id)},"ip":${textValue(event.ip)}` +
      `,"occurred_at":${textValue(event.occurredAt)},"on_behalf_of":${textValue(event.onBehalfOf)}` +
      `,"outcome":${textValue(event.outcome)},"prev_hash":"`,
    middle: `","request_id":${textValue(event.requestId)},"root_agent_id":${textValue(event.rootAgentId)},"seq":`,
    tail: `,"target_id":${textValue(event.targetId)},"target_type":${textValue(event.targetType)}}`,
  };
}

/**
 * The exact text an event's hash covers (docs/audit.md "Chain format"): the JCS canonical JSON of an
 * object with the event's 13 content fields, its `seq` and the previous event's hash (`prev_hash`).
 */
export function canonicalEventText(event: PendingAuditEvent, seq: number, prevHash: string): string {
  const { head, middle, tail } = canonicalEventParts(event);
  return `${head}${prevHash}${middle}${seq}${tail}`;
}

/** Lower-case hex SHA-256 of the UTF-8 bytes of `canonicalEventText`. */
export function eventHash(event: PendingAuditEvent, seq: number, prevHash: string): string {
  return createHash('sha256')
    .update(canonicalEventText(event, seq, prevHash), 'utf8')
    .digest('hex');
}

/** Extends the chain from `head` (null = empty chain) with `events`, in order. */
export function linkEvents(head: ChainHead | null, events: PendingAuditEvent[]): RecordedAuditEvent[] {
  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  return events.map((event) => {
    seq += 1;
    const hash = eventHash(event, seq, prevHash);
    const recorded = { ...event, seq, prevHash, hash };
    prevHash = hash;
    return recorded;
  });
}

export type ChainBreakReason = 'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch';

export interface ChainVerification {
  valid: boolean;
  /** Events examined (when broken: up to and including the first broken one). */
  checked: number;
  first_broken_seq?: number;
  first_broken_id?: string;
  /** Why the first broken event fails: its seq does not follow, it does not link, or its content changed. */
  reason?: ChainBreakReason;
  /** The last event verified as valid (an operator may note it elsewhere to detect a rewritten tail). */
  last_seq: number;
  last_hash: string;
}

/** A part of the chain to verify: `from_seq` … `to_seq` (inclusive; each end optional). */
export interface ChainRange {
  fromSeq?: number;
  toSeq?: number;
}

/**
 * Walks the chain in seq order one page at a time (constant memory). `fetchPage(afterSeq, limit)` returns
 * the next events with `seq > afterSeq` ordered by seq. The first event must have seq 1; every event
 * must follow its predecessor (`seq + 1`), link to it (`prev_hash` = its `hash`) and hash to its `hash`.
 * With a `range`, the walk starts at `fromSeq` — linked to the event before it, taken as it is — and stops
 * after `toSeq`.
 */
export async function verifyChain(
  fetchPage: (afterSeq: number, limit: number) => Promise<RecordedAuditEvent[]>,
  pageSize = 1000,
  range: ChainRange = {},
): Promise<ChainVerification> {
  let prev: ChainHead = { seq: 0, hash: GENESIS_HASH };
  const fromSeq = Math.max(1, range.fromSeq ?? 1);
  const toSeq = range.toSeq ?? Number.POSITIVE_INFINITY;
  if (fromSeq > 1) {
    const [anchor] = await fetchPage(fromSeq - 2, 1);
    if (!anchor || anchor.seq !== fromSeq - 1) {
      // Nothing at or before fromSeq - 1: the range lies beyond the chain's end.
      return { valid: true, checked: 0, last_seq: anchor?.seq ?? 0, last_hash: anchor?.hash ?? GENESIS_HASH };
    }
    prev = { seq: anchor.seq, hash: anchor.hash };
  }
  let checked = 0;
  for (;;) {
    const page = await fetchPage(prev.seq, pageSize);
    for (const row of page) {
      if (row.seq > toSeq) return { valid: true, checked, last_seq: prev.seq, last_hash: prev.hash };
      checked += 1;
      const reason: ChainBreakReason | null =
        row.seq !== prev.seq + 1
          ? 'seq_gap'
          : row.prevHash !== prev.hash
            ? 'prev_hash_mismatch'
            : eventHash(row, row.seq, row.prevHash) !== row.hash
              ? 'hash_mismatch'
              : null;
      if (reason) {
        return {
          valid: false,
          checked,
          first_broken_seq: row.seq,
          first_broken_id: row.id,
          reason,
          last_seq: prev.seq,
          last_hash: prev.hash,
        };
      }
      prev = { seq: row.seq, hash: row.hash };
    }
    if (page.length < pageSize) return { valid: true, checked, last_seq: prev.seq, last_hash: prev.hash };
  }
}

/** The answer of `GET /audit/verify` and of `make audit-verify` (both modes). */
export interface AuditVerificationReport {
  verified: boolean;
  events_checked: number;
  /** The first event that does not verify (absent when `verified`). */
  first_broken_event?: { seq: number; id: string; reason: ChainBreakReason };
  /** The last event verified as valid: keep this pair somewhere the database owner cannot write. */
  last_verified_seq: number;
  last_verified_hash: string;
}

export function verificationReport(result: ChainVerification): AuditVerificationReport {
  return {
    verified: result.valid,
    events_checked: result.checked,
    ...(result.valid
      ? {}
      : {
          first_broken_event: {
            seq: result.first_broken_seq as number,
            id: result.first_broken_id as string,
            reason: result.reason as ChainBreakReason,
          },
        }),
    last_verified_seq: result.last_seq,
    last_verified_hash: result.last_hash,
  };
}
