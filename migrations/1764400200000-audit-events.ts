import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditEvents1764400200000 implements MigrationInterface {
  name = 'AuditEvents1764400200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        occurred_at timestamptz NOT NULL,
        event_type text NOT NULL CHECK (length(event_type) BETWEEN 1 AND 100),
        outcome text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
        actor_agent_id uuid NULL,
        on_behalf_of uuid NULL,
        target_type text NULL,
        target_id text NULL,
        root_agent_id uuid NULL,
        ip text NULL,
        request_id text NULL,
        details jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await q.query(`CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at, id)`);
    await q.query(`CREATE INDEX audit_events_type_idx ON audit_events (event_type, occurred_at)`);
    await q.query(`CREATE INDEX audit_events_root_idx ON audit_events (root_agent_id, occurred_at)`);
    await q.query(`CREATE INDEX audit_events_actor_idx ON audit_events (actor_agent_id, occurred_at)`);
    await q.query(`GRANT SELECT, INSERT ON audit_events TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
  }
}
