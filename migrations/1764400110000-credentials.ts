import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys (CONTRACT §3): the public `prefix` is the lookup id (unique index), the secret is stored only as
 * an argon2id PHC string. A rotated-out key keeps `status = 'active'` until its `grace_until`.
 */
export class Credentials1764400110000 implements MigrationInterface {
  name = 'Credentials1764400110000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE credentials (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
        name text NULL,
        prefix text COLLATE "C" NOT NULL,
        hash text NOT NULL,
        scopes text[] NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'active',
        expires_at timestamptz NULL,
        grace_until timestamptz NULL,
        rotated_to_id uuid NULL REFERENCES credentials (id) ON DELETE RESTRICT,
        last_used_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz NULL,
        CONSTRAINT credentials_name_length CHECK (name IS NULL OR char_length(name) BETWEEN 1 AND 200),
        CONSTRAINT credentials_prefix_shape CHECK (prefix ~ '^[a-z0-9]{16}$'),
        CONSTRAINT credentials_hash_is_argon2id CHECK (hash LIKE '$argon2id$%'),
        CONSTRAINT credentials_scopes_size CHECK (cardinality(scopes) <= 100),
        CONSTRAINT credentials_status_check CHECK (status IN ('active', 'revoked')),
        CONSTRAINT credentials_revoked_at CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
        CONSTRAINT credentials_rotation CHECK ((rotated_to_id IS NULL) = (grace_until IS NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX credentials_prefix_idx ON credentials (prefix)`);
    await q.query(`CREATE INDEX credentials_agent_idx ON credentials (agent_id, created_at, id)`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON credentials TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON credentials FROM agentauth_app`);
    await q.query(`DROP TABLE credentials`);
  }
}
