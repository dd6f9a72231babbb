import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Managed JWT signing keys (docs/tokens.md, "Signing keys"). States: published (in JWKS, not signing yet) →
 * active (signs; exactly one) → retiring (verifies only) → retired (left JWKS; private key erased).
 */
export class SigningKeys1764400300000 implements MigrationInterface {
  name = 'SigningKeys1764400300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE signing_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        kid text NOT NULL UNIQUE CHECK (length(kid) BETWEEN 16 AND 128),
        alg text NOT NULL DEFAULT 'RS256' CHECK (alg = 'RS256'),
        public_jwk jsonb NOT NULL CHECK (public_jwk ->> 'kty' = 'RSA' AND NOT public_jwk ? 'd'),
        private_key_encrypted text NULL CHECK (private_key_encrypted LIKE 'v1.%'),
        state text NOT NULL CHECK (state IN ('published', 'active', 'retiring', 'retired')),
        created_at timestamptz NOT NULL,
        activates_at timestamptz NOT NULL,
        retiring_at timestamptz NULL,
        retire_after timestamptz NULL,
        retired_at timestamptz NULL,
        max_delegation_exp timestamptz NULL,
        CONSTRAINT signing_keys_private_key_kept CHECK (state = 'retired' OR private_key_encrypted IS NOT NULL),
        CONSTRAINT signing_keys_retire_after_set CHECK (state IN ('published', 'active') OR retire_after IS NOT NULL)
      )`);
    // At most one key signs at any time.
    await q.query(
      `CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active'`,
    );
    await q.query(`CREATE INDEX signing_keys_live_idx ON signing_keys (state) WHERE state <> 'retired'`);
    // The API and the worker rotate keys; rows are never deleted by the app (history of kids).
    await q.query(`GRANT SELECT, INSERT, UPDATE ON signing_keys TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON signing_keys FROM agentauth_app`);
    await q.query(`DROP TABLE signing_keys`);
  }
}
