import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { type ChainHead, linkEvents, type PendingAuditEvent, type RecordedAuditEvent } from './audit-chain';
import type { AuditOutcome } from './audit-event';

/**
 * Key of the transaction-scoped advisory lock that serializes chain extension across every process
 * writing to this database ('auditcha' in ASCII).
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
        extra: { ...extra, max: 1, application_name: 'agentauth-audit-writer' },
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
   * Appends `events` to the chain in ONE transaction: takes the chain lock, reads the head (the last row),
   * links the events after it and writes them with ONE multi-row INSERT. With `retry`, events whose id
   * is already stored (a previous attempt committed but its acknowledgement was lost) are not written
   * again: their stored seq and hash are returned instead. Returns the events in input order.
   */
  async appendBatch(events: PendingAuditEvent[], retry = false): Promise<RecordedAuditEvent[]> {
    if (events.length === 0) return [];
    const writer = await this.writerDataSource();
    return writer.transaction(async (m) => {
      // synchronous_commit: the COMMIT returns only once the WAL is flushed, whatever the server default.
      await m.query(
        `SELECT set_config('synchronous_commit', 'on', true), set_config('lock_timeout', '5s', true),
                set_config('statement_timeout', '10s', true)`,
      );
      await m.query(`SELECT pg_advisory_xact_lock($1::bigint)`, [AUDIT_CHAIN_LOCK_KEY]);
      const stored = new Map<string, RecordedAuditEvent>();
      if (retry) {
        const rows: EventRow[] = await m.query(
          `SELECT ${COLUMNS} FROM audit_events WHERE id = ANY($1::uuid[])`,
          [events.map((e) => e.id)],
        );
        for (const row of rows) stored.set(row.id, rowToEvent(row));
      }
      const todo = events.filter((e) => !stored.has(e.id));
      const linked = linkEvents(await this.head(m), todo);
      if (linked.length > 0) await this.insert(m, linked);
      const written = new Map(linked.map((e) => [e.id, e]));
      return events.map((e) => stored.get(e.id) ?? (written.get(e.id) as RecordedAuditEvent));
    });
  }

  private async head(m: EntityManager): Promise<ChainHead | null> {
    const rows: { seq: string; hash: string }[] = await m.query(
      `SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`,
    );
    return rows.length ? { seq: Number(rows[0].seq), hash: rows[0].hash } : null;
  }

  private async insert(m: EntityManager, linked: RecordedAuditEvent[]): Promise<void> {
    const column = <K extends keyof RecordedAuditEvent>(key: K) => linked.map((e) => e[key]);
    const inserted: { id: string }[] = await m.query(
      `INSERT INTO audit_events (${COLUMNS})
       SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::uuid[],
         $7::uuid[], $8::text[], $9::text[], $10::uuid[], $11::text[], $12::text[], $13::jsonb[], $14::text[],
         $15::text[])
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [
        column('id'),
        column('seq'),
        column('occurredAt'),
        column('eventType'),
        column('outcome'),
        column('actorAgentId'),
        column('onBehalfOf'),
        column('targetType'),
        column('targetId'),
        column('rootAgentId'),
        column('ip'),
        column('requestId'),
        linked.map((e) => JSON.stringify(e.details)),
        column('prevHash'),
        column('hash'),
      ],
    );
    // A skipped row would leave a hole in the chain: roll the whole batch back instead (the retry re-reads).
    if (inserted.length !== linked.length) {
      throw new Error(
        `audit batch: ${linked.length - inserted.length} event id(s) already stored; rolled back`,
      );
    }
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
