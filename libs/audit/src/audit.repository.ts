import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { canonicalEventParts, type PendingAuditEvent, type RecordedAuditEvent } from './audit-chain';
import type { AuditOutcome } from './audit-event';

/**
 * Key of the transaction-scoped advisory lock that serializes chain extension across every process
 * writing to this database ('auditcha' in ASCII), taken by `audit_append` (migrations/1764400900000).
 */
export const AUDIT_CHAIN_LOCK_KEY = '7022344802737464417';

/** Every column of an event, in the order `rowToEvent` reads them. */
const COLUMNS = `id, seq, occurred_at, event_type, outcome, actor_agent_id, on_behalf_of, target_type, target_id,
  root_agent_id, ip, request_id, details, prev_hash, hash`;

interface EventRow {
  id: string;
  seq: string | number;
  occurred_at: Date | string;
  event_type: string;
  outcome: AuditOutcome;
  actor_agent_id: string | null;
  on_behalf_of: string | null;
  target_type: string | null;
  target_id: string | null;
  root_agent_id: string | null;
  ip: string | null;
  request_id: string | null;
  details: Record<string, unknown> | null;
  prev_hash: string;
  hash: string;
}

export function rowToEvent(row: EventRow): RecordedAuditEvent {
  return {
    id: row.id,
    seq: Number(row.seq),
    occurredAt: new Date(row.occurred_at).toISOString(),
    eventType: row.event_type,
    outcome: row.outcome,
    actorAgentId: row.actor_agent_id,
    onBehalfOf: row.on_behalf_of,
    targetType: row.target_type,
    targetId: row.target_id,
    rootAgentId: row.root_agent_id,
    ip: row.ip,
    requestId: row.request_id,
    details: row.details ?? {},
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** One event of `audit_append_json`'s batch (migrations/1764540000000-audit-append-json.ts). */
function batchMember(event: PendingAuditEvent) {
  const { head, middle, tail } = canonicalEventParts(event);
  return {
    id: event.id,
    occurred_at: event.occurredAt,
    event_type: event.eventType,
    outcome: event.outcome,
    actor_agent_id: event.actorAgentId,
    on_behalf_of: event.onBehalfOf,
    target_type: event.targetType,
    target_id: event.targetId,
    root_agent_id: event.rootAgentId,
    ip: event.ip,
    request_id: event.requestId,
    details: event.details,
    head,
    middle,
    tail,
  };
}

/** Filters of `GET /audit/events`, already validated. */
export interface AuditEventFilters {
  eventType?: string;
  /** Actor, on-behalf-of or target. */
  agentId?: string;
  rootAgentId?: string;
  outcome?: AuditOutcome;
  requestId?: string;
  /** Inclusive. */
  since?: Date;
  /** Exclusive. */
  until?: Date;
  /** Keyset cursor: events with a smaller seq (newest first). */
  beforeSeq?: number;
}

/**
 * The SQL of one page of `GET /audit/events`: newest first by `seq` (commit order, so a page boundary
 * never skips or repeats an event even while events are being written). Exported for the EXPLAIN test.
 */
export function buildListQuery(
  filters: AuditEventFilters,
  limit: number,
): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filters.eventType !== undefined) where.push(`event_type = ${param(filters.eventType)}`);
  if (filters.agentId !== undefined) {
    const id = param(filters.agentId);
    where.push(`(actor_agent_id = ${id}::uuid OR on_behalf_of = ${id}::uuid OR target_id = ${id}::text)`);
  }
  if (filters.rootAgentId !== undefined) where.push(`root_agent_id = ${param(filters.rootAgentId)}::uuid`);
  if (filters.outcome !== undefined) where.push(`outcome = ${param(filters.outcome)}`);
  if (filters.requestId !== undefined) where.push(`request_id = ${param(filters.requestId)}`);
  if (filters.since !== undefined)
    where.push(`occurred_at >= ${param(filters.since.toISOString())}::timestamptz`);
  if (filters.until !== undefined)
    where.push(`occurred_at < ${param(filters.until.toISOString())}::timestamptz`);
  if (filters.beforeSeq !== undefined) where.push(`seq < ${param(filters.beforeSeq)}::bigint`);
  const sql = `SELECT ${COLUMNS} FROM audit_events${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
    ORDER BY seq DESC LIMIT ${param(limit)}::int`;
  return { sql, params };
}

/**
 * The audit trail's SQL. The table is global (operators' view), not tenant data.
 *
 * Batches are written on a connection of their own (a one-connection pool opened on first use with the
 * app's connection options): requests waiting for their event may hold every connection of the shared
 * pool (e.g. inside a transaction), and the writer they wait for must never queue behind them.
 */
@Injectable()
export class AuditRepository implements OnApplicationShutdown {
  private writer: Promise<DataSource> | undefined;
  private shutDown = false;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private writerDataSource(): Promise<DataSource> {
    if (this.shutDown) return Promise.reject(new Error('the audit writer connection is closed (shutdown)'));
    if (!this.writer) {
      const options = this.dataSource.options;
      const extra = (options.extra ?? {}) as Record<string, unknown>;
      const writer = new DataSource({
        ...options,
        entities: [],
        migrations: [],
        subscribers: [],
        extra: {
          ...extra,
          max: 1,
          application_name: 'agentauth-audit-writer',
          // A batch is acknowledged only once its WAL is flushed, whatever the server default; a batch never
          // waits long for the chain lock or runs away.
          options: [extra.options, '-c synchronous_commit=on -c lock_timeout=5s -c statement_timeout=10s']
            .filter(Boolean)
            .join(' '),
        },
      });
      this.writer = writer.initialize().catch((error: unknown) => {
        this.writer = undefined; // the next batch tries again
        throw error;
      });
    }
    return this.writer;
  }

  /** Closes the writer's connection (after AuditService has flushed, in onModuleDestroy). */
  async onApplicationShutdown(): Promise<void> {
    this.shutDown = true;
    const writer = this.writer;
    this.writer = undefined;
    if (writer) await (await writer.catch(() => undefined))?.destroy();
  }

  /**
   * Appends `events` to the chain with ONE statement (`audit_append_json`, its own transaction): under the
   * chain lock the database reads the head, completes and hashes each event's canonical text (prepared here)
   * and inserts the new rows with one multi-row INSERT. The batch travels as one JSON parameter: one native
   * `JSON.stringify`, where fifteen array parameters cost node-postgres an escaped array literal each
   * (docs/performance.md, "Fifth session"). Idempotent by event id: an event already stored (a retried batch
   * whose first commit was acknowledged too late) is not written again; its stored place in the chain is
   * returned. Returns the events in input order.
   */
  async appendBatch(events: PendingAuditEvent[]): Promise<RecordedAuditEvent[]> {
    if (events.length === 0) return [];
    const writer = await this.writerDataSource();
    const rows: { id: string; seq: string; prev_hash: string; hash: string }[] = await writer.query(
      `SELECT id, seq, prev_hash, hash FROM audit_append_json($1::json)`,
      [JSON.stringify(events.map(batchMember))],
    );
    const placed = new Map(rows.map((row) => [row.id, row]));
    return events.map((event) => {
      const row = placed.get(event.id);
      if (!row) throw new Error('audit batch: an event is missing from the chain answer');
      return { ...event, seq: Number(row.seq), prevHash: row.prev_hash, hash: row.hash };
    });
  }

  /** Events with `seq > afterSeq`, in seq order (the chain verifier's page). */
  async chainPage(afterSeq: number, limit: number): Promise<RecordedAuditEvent[]> {
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM audit_events WHERE seq > $1::bigint ORDER BY seq LIMIT $2::int`,
      [afterSeq, limit],
    );
    return rows.map(rowToEvent);
  }

  async list(filters: AuditEventFilters, limit: number): Promise<RecordedAuditEvent[]> {
    const { sql, params } = buildListQuery(filters, limit);
    const rows: EventRow[] = await this.dataSource.query(sql, params);
    return rows.map(rowToEvent);
  }

  /** Successful events of one type: all of them, and those since `since`. */
  async successCounts(eventType: string, since: Date): Promise<{ total: number; sinceCount: number }> {
    const rows: { total: string; last_24h: string }[] = await this.dataSource.query(
      `SELECT count(*)::text AS total, count(*) FILTER (WHERE occurred_at >= $2)::text AS last_24h
       FROM audit_events WHERE event_type = $1 AND outcome = 'success'`,
      [eventType, since],
    );
    return { total: Number(rows[0].total), sinceCount: Number(rows[0].last_24h) };
  }

  /** `total` = the chain's last seq (seq is gapless from 1, so no full count is needed). */
  async counts(since: Date): Promise<{ total: number; sinceCount: number }> {
    const rows: { total: string; since_count: string }[] = await this.dataSource.query(
      `SELECT (SELECT coalesce(max(seq), 0) FROM audit_events) AS total,
              (SELECT count(*) FROM audit_events WHERE occurred_at >= $1::timestamptz) AS since_count`,
      [since.toISOString()],
    );
    return { total: Number(rows[0].total), sinceCount: Number(rows[0].since_count) };
  }
}
