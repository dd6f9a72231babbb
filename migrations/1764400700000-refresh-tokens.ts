import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh-token families (CONTRACT §4, docs/tokens.md "Refresh tokens"). A family is one grant: bound to the
 * client agent it was issued to, with the scopes and audience of its first grant and an expiry fixed then
 * (REFRESH_TOKEN_EXPIRE_DAYS). Each refresh token is stored as the SHA-256 of its 256-bit random value and
 * used at most once: rotation is ONE `UPDATE … WHERE status = 'active' RETURNING`; using a used or revoked
 * token revokes the family.
 */
export class RefreshTokens1764400700000 implements MigrationInterface {
  name = 'RefreshTokens1764400700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE refresh_families (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        root_agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
        client_agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
        subject_agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
        credential_id uuid NULL REFERENCES credentials (id) ON DELETE RESTRICT,
        delegation_id uuid NULL,
        act jsonb NULL,
        scopes text[] NOT NULL DEFAULT '{}',
        audience text NOT NULL,
        status text NOT NULL DEFAULT 'active',
        revoked_reason text NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz NULL,
        CONSTRAINT refresh_families_status_check CHECK (status IN ('active', 'revoked')),
        CONSTRAINT refresh_families_revoked_at CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
        CONSTRAINT refresh_families_expiry CHECK (expires_at > created_at),
        CONSTRAINT refresh_families_scopes_size CHECK (cardinality(scopes) <= 100),
        CONSTRAINT refresh_families_audience_length CHECK (char_length(audience) BETWEEN 1 AND 512)
      )`);
    await q.query(
      `CREATE INDEX refresh_families_client_idx ON refresh_families (client_agent_id) WHERE status = 'active'`,
    );
    await q.query(
      `CREATE INDEX refresh_families_subject_idx ON refresh_families (subject_agent_id) WHERE status = 'active'`,
    );
    await q.query(
      `CREATE INDEX refresh_families_credential_idx ON refresh_families (credential_id) WHERE status = 'active'`,
    );
    await q.query(
      `CREATE INDEX refresh_families_delegation_idx ON refresh_families (delegation_id)
       WHERE status = 'active' AND delegation_id IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        family_id uuid NOT NULL REFERENCES refresh_families (id) ON DELETE RESTRICT,
        token_hash text COLLATE "C" NOT NULL,
        parent_id uuid NULL REFERENCES refresh_tokens (id) ON DELETE RESTRICT,
        status text NOT NULL DEFAULT 'active',
        created_at timestamptz NOT NULL DEFAULT now(),
        used_at timestamptz NULL,
        revoked_at timestamptz NULL,
        CONSTRAINT refresh_tokens_hash_shape CHECK (token_hash ~ '^[0-9a-f]{64}$'),
        CONSTRAINT refresh_tokens_status_check CHECK (status IN ('active', 'used', 'revoked')),
        CONSTRAINT refresh_tokens_used_at CHECK ((status = 'used') = (used_at IS NOT NULL)),
        CONSTRAINT refresh_tokens_revoked_at CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX refresh_tokens_hash_idx ON refresh_tokens (token_hash)`);
    await q.query(
      `CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id) WHERE status = 'active'`,
    );
    await q.query(`GRANT SELECT, INSERT, UPDATE ON refresh_families, refresh_tokens TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON refresh_families, refresh_tokens FROM agentauth_app`);
    await q.query(`DROP TABLE refresh_tokens`);
    await q.query(`DROP TABLE refresh_families`);
  }
}
