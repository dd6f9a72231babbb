import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail (docs/audit.md): append-only, hash-chained.
 *
 * - `seq` is assigned by the writer (last seq + 1) under a transaction-scoped advisory lock, so the chain
 *   is linear across processes; UNIQUE(seq) makes a forked chain impossible even without the lock.
 * - The app role gets SELECT and INSERT only: the chain head is read from the last row, so the writer
 *   needs no UPDATE anywhere.
 * - Statement triggers refuse UPDATE, DELETE and TRUNCATE for every role, the owner and superusers
 *   included (they fire even when no row matches).
 */
export class AuditEvents1764400200000 implements MigrationInterface {
  name = 'AuditEvents1764400200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id uuid PRIMARY KEY,
        seq bigint NOT NULL CHECK (seq >= 1),
        occurred_at timestamptz NOT NULL,
        event_type text NOT NULL CHECK (event_type ~ '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$' AND length(event_type) <= 100),
        outcome text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
        actor_agent_id uuid NULL,
        on_behalf_of uuid NULL,
        target_type text NULL,
        target_id text NULL,
        root_agent_id uuid NULL,
        ip text NULL,
        request_id text NULL,
        details jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(details) = 'object'),
        prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
        hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
        CONSTRAINT audit_events_seq_key UNIQUE (seq)
      )`);
    // Admin filters (GET /audit/events orders by seq DESC): one (filter, seq) index per filter column.
    await q.query(`CREATE INDEX audit_events_event_type_seq_idx ON audit_events (event_type, seq)`);
    await q.query(`CREATE INDEX audit_events_root_seq_idx ON audit_events (root_agent_id, seq)`);
    await q.query(`CREATE INDEX audit_events_actor_seq_idx ON audit_events (actor_agent_id, seq)`);
    await q.query(`CREATE INDEX audit_events_on_behalf_of_seq_idx ON audit_events (on_behalf_of, seq)`);
    await q.query(`CREATE INDEX audit_events_target_seq_idx ON audit_events (target_id, seq)`);
    await q.query(`CREATE INDEX audit_events_outcome_seq_idx ON audit_events (outcome, seq)`);
    await q.query(`CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at)`);
    await q.query(`CREATE INDEX audit_events_request_id_idx ON audit_events (request_id)`);

    await q.query(`
      CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege',
                HINT = 'Audit events are never changed or removed; see docs/audit.md.';
      END
      $$`);
    await q.query(`
      CREATE TRIGGER audit_events_append_only
        BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()`);
    await q.query(`
      CREATE TRIGGER audit_events_no_truncate
        BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()`);

    await q.query(`REVOKE ALL ON audit_events FROM PUBLIC`);
    await q.query(`GRANT SELECT, INSERT ON audit_events TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON audit_events FROM agentauth_app`);
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION audit_events_refuse_change()`);
  }
}
