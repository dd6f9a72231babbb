import type { MigrationInterface, QueryRunner } from 'typeorm';

/** `audit_append`'s argument types (its identity for ALTER FUNCTION). */
const AUDIT_APPEND = `audit_append(uuid[], timestamptz[], text[], text[], uuid[], uuid[], text[], text[], uuid[],
  text[], text[], jsonb[], text[], text[], text[])`;

/**
 * `audit_append` runs with `enable_seqscan = off`: its lookup of the batch's ids already stored
 * (`WHERE id = ANY (p_id)`, the retried-batch check) must use the primary key whatever the statistics.
 *
 * PL/pgSQL keeps a statement's plan for the session, and after five calls it may settle on a generic one.
 * The audit writer's connection lives as long as the process and usually makes its first call on a young
 * table, so the lookup's generic plan was a sequential scan of `audit_events` — for every batch, until an
 * ANALYZE of the grown table happened to invalidate it: measured on a fresh database, PostgreSQL's CPU per
 * batch of 8 events rose from 1.4 to 5 ms over the first 40,000 events, and stays at ~0.7 ms with this
 * (docs/performance.md, "Fifth session"). Every other statement of the function reads through an index or
 * scans its own arguments, so the setting changes no other plan. Same signature: owner and grants stay.
 */
export class AuditAppendPrimaryKeyLookup1764540100000 implements MigrationInterface {
  name = 'AuditAppendPrimaryKeyLookup1764540100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER FUNCTION ${AUDIT_APPEND} SET enable_seqscan = off`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER FUNCTION ${AUDIT_APPEND} RESET enable_seqscan`);
  }
}
