import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Interactive authorization (CONTRACT §11, docs/authorize.md):
 * - `agents.client_type` (confidential | public) and `agents.redirect_uris` (governed fields);
 * - `delegations.kind` (`delegation`, or `authorization_code` for a consent given at `/auth/authorize`:
 *   usable only through the authorization_code and refresh_token grants) and `delegations.resource` (the
 *   RFC 8707 resource the consent was given for);
 * - `authorization_codes`: single-use codes, stored as SHA-256 hashes only, each bound to its client,
 *   redirect URI, PKCE challenge, scopes, resource and approval (delegation); what a redemption issued
 *   (refresh family, access-token jti) is recorded so a second use revokes it.
 */
export class AuthorizationCode1764530000000 implements MigrationInterface {
  name = 'AuthorizationCode1764530000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE agents
        ADD COLUMN client_type text NOT NULL DEFAULT 'confidential'
          CONSTRAINT agents_client_type_check CHECK (client_type IN ('confidential', 'public')),
        ADD COLUMN redirect_uris text[] NOT NULL DEFAULT '{}'
          CONSTRAINT agents_redirect_uris_count CHECK (cardinality(redirect_uris) <= 10)`);
    await q.query(`
      ALTER TABLE delegations
        ADD COLUMN kind text NOT NULL DEFAULT 'delegation'
          CONSTRAINT delegations_kind_check CHECK (kind IN ('delegation', 'authorization_code')),
        ADD COLUMN resource text NULL
          CONSTRAINT delegations_resource_length CHECK (char_length(resource) <= 2000)`);
    await q.query(`
      CREATE TABLE authorization_codes (
        code_hash text PRIMARY KEY CONSTRAINT authorization_codes_hash_shape CHECK (code_hash ~ '^[A-Za-z0-9_-]{43}$'),
        root_agent_id uuid NOT NULL REFERENCES agents(id),
        client_agent_id uuid NOT NULL REFERENCES agents(id),
        approver_agent_id uuid NOT NULL REFERENCES agents(id),
        delegation_id uuid NOT NULL REFERENCES delegations(id),
        redirect_uri text NOT NULL,
        code_challenge text NOT NULL CONSTRAINT authorization_codes_challenge_shape CHECK (code_challenge ~ '^[A-Za-z0-9_-]{43}$'),
        scopes text[] NOT NULL,
        resource text NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz NULL,
        reused_at timestamptz NULL,
        family_id uuid NULL,
        access_token_jti uuid NULL,
        access_token_expires_at timestamptz NULL,
        CONSTRAINT authorization_codes_lifetime CHECK (expires_at > created_at AND expires_at <= created_at + interval '60 seconds')
      )`);
    await q.query(`CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at)`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON authorization_codes TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON authorization_codes FROM agentauth_app`);
    await q.query(`DROP TABLE authorization_codes`);
    await q.query(`ALTER TABLE delegations DROP COLUMN resource, DROP COLUMN kind`);
    await q.query(`ALTER TABLE agents DROP COLUMN redirect_uris, DROP COLUMN client_type`);
  }
}
