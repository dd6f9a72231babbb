import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Webhooks1764400600000 implements MigrationInterface {
  name = 'Webhooks1764400600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhooks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        root_agent_id uuid NOT NULL,
        created_by_agent_id uuid NULL,
        url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048 AND url ~ '^https?://'),
        events text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 20),
        description text NULL CHECK (length(description) <= 500),
        secret_encrypted text NOT NULL CHECK (secret_encrypted LIKE 'v1.%'),
        status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        deleted_at timestamptz NULL,
        CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
      )`);
    await q.query(
      `CREATE INDEX webhooks_root_created_idx ON webhooks (root_agent_id, created_at DESC, id DESC)
        WHERE status = 'active'`,
    );
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
        root_agent_id uuid NOT NULL,
        event_id uuid NOT NULL,
        event_type text NOT NULL CHECK (length(event_type) BETWEEN 1 AND 100),
        body text NOT NULL,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        last_status_code integer NULL,
        last_error text NULL CHECK (length(last_error) <= 500),
        attempt_log jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(attempt_log) = 'array'),
        next_attempt_at timestamptz NULL,
        delivered_at timestamptz NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        CONSTRAINT webhook_deliveries_webhook_event_key UNIQUE (webhook_id, event_id),
        CHECK ((status = 'succeeded') = (delivered_at IS NOT NULL))
      )`);
    await q.query(
      `CREATE INDEX webhook_deliveries_webhook_created_idx ON webhook_deliveries (webhook_id, created_at DESC, id DESC)`,
    );
    await q.query(`CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id)`);
    await q.query(
      `CREATE INDEX webhook_deliveries_finished_idx ON webhook_deliveries (updated_at) WHERE status <> 'pending'`,
    );
    // Webhooks are soft-deleted (no DELETE); deliveries are purged by the retention maintenance task.
    await q.query(`GRANT SELECT, INSERT, UPDATE ON webhooks TO agentauth_app`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_deliveries TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON webhook_deliveries FROM agentauth_app`);
    await q.query(`REVOKE ALL ON webhooks FROM agentauth_app`);
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhooks`);
  }
}
