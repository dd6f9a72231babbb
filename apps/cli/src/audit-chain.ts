import { createHash } from 'node:crypto';

/** An audit event as `GET /audit/events` returns it. */
export interface AuditEvent {
  id: string;
  occurred_at: string;
  event_type: string;
  outcome: string;
  actor_agent_id: string | null;
  on_behalf_of: string | null;
  target_type: string | null;
  target_id: string | null;
  root_agent_id: string | null;
  ip: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
  seq: number;
  prev_hash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** RFC 8785 (JCS) canonical JSON of a plain JSON value (docs/audit.md "Chain format"). */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('non-finite number in an audit event');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`);
    return `{${members.join(',')}}`;
  }
  throw new Error(`unsupported ${typeof value} in an audit event`);
}

/** The documented hash of an event: SHA-256 of the JCS text of its 14 chained members. */
export function eventHash(event: AuditEvent): string {
  const text = canonicalJson({
    actor_agent_id: event.actor_agent_id,
    details: event.details,
    event_type: event.event_type,
    id: event.id,
    ip: event.ip,
    occurred_at: event.occurred_at,
    on_behalf_of: event.on_behalf_of,
    outcome: event.outcome,
    prev_hash: event.prev_hash,
    request_id: event.request_id,
    root_agent_id: event.root_agent_id,
    seq: event.seq,
    target_id: event.target_id,
    target_type: event.target_type,
  });
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export interface ChainVerification {
  valid: boolean;
  checked: number;
  first_broken_seq?: number;
  first_broken_id?: string;
  reason?: 'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch';
  last_seq: number;
  last_hash: string;
}

/** Checks events in seq order as `make audit-verify` does: seq follows, prev_hash links, hash recomputes. */
export function verifyChain(eventsInSeqOrder: AuditEvent[]): ChainVerification {
  let prev = { seq: 0, hash: GENESIS_HASH };
  let checked = 0;
  for (const event of eventsInSeqOrder) {
    checked += 1;
    const reason =
      event.seq !== prev.seq + 1
        ? 'seq_gap'
        : event.prev_hash !== prev.hash
          ? 'prev_hash_mismatch'
          : eventHash(event) !== event.hash
            ? 'hash_mismatch'
            : undefined;
    if (reason) {
      return {
        valid: false,
        checked,
        first_broken_seq: event.seq,
        first_broken_id: event.id,
        reason,
        last_seq: prev.seq,
        last_hash: prev.hash,
      };
    }
    prev = { seq: event.seq, hash: event.hash };
  }
  return { valid: true, checked, last_seq: prev.seq, last_hash: prev.hash };
}
