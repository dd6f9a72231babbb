import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Durable revocation state (docs/tokens.md, "Revocation state"); Redis holds the fast copy and is rebuilt
 * from here. `agent` markers kill tokens issued at or before `revoked_at`; every other kind kills all tokens
 * that reference it. `expires_at` (NULL = forever) lets the maintenance job purge markers nothing can match.
 */
export class Revocations1764400310000 implements MigrationInterface {
  name = 'Revocations1764400310000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE revocations (
        kind text NOT NULL CHECK (kind IN ('jti', 'credential', 'agent', 'family', 'delegation')),
        subject_id text NOT NULL CHECK (length(subject_id) BETWEEN 1 AND 200),
        revoked_at timestamptz NOT NULL,
        expires_at timestamptz NULL,
        PRIMARY KEY (kind, subject_id)
      )`);
    await q.query(
      `CREATE INDEX revocations_expires_at_idx ON revocations (expires_at) WHERE expires_at IS NOT NULL`,
    );
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON revocations TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON revocations FROM agentauth_app`);
    await q.query(`DROP TABLE revocations`);
  }
}
