import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Public-key credentials (CONTRACT §9, docs/security.md "private_key_jwt"): a credential is either an API key
 * (`type = 'api_key'`: `prefix` + argon2id `hash`, as before — every existing row) or a public key
 * (`type = 'public_key'`: the public JWK, its `kid`, the `alg` assertions must use and its RFC 7638
 * `thumbprint`; no prefix, no hash — there is no secret). A check constraint keeps each type's columns
 * consistent. An agent's active public keys are unique by `kid` and by thumbprint (a `kid` selects one key;
 * the same key twice would only be ambiguous).
 *
 * `down` removes the public-key credentials (and the refresh families minted with them) before restoring the
 * API-key-only shape: there is no API-key form to turn them into.
 */
export class PublicKeyCredentials1764520000000 implements MigrationInterface {
  name = 'PublicKeyCredentials1764520000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE credentials
        ADD COLUMN type text NOT NULL DEFAULT 'api_key',
        ADD COLUMN jwk jsonb NULL,
        ADD COLUMN kid text NULL,
        ADD COLUMN alg text NULL,
        ADD COLUMN thumbprint text NULL,
        ALTER COLUMN prefix DROP NOT NULL,
        ALTER COLUMN hash DROP NOT NULL`);
    await q.query(`
      ALTER TABLE credentials
        ADD CONSTRAINT credentials_type_check CHECK (type IN ('api_key', 'public_key')),
        ADD CONSTRAINT credentials_type_columns CHECK (
          (type = 'api_key' AND prefix IS NOT NULL AND hash IS NOT NULL
             AND jwk IS NULL AND kid IS NULL AND alg IS NULL AND thumbprint IS NULL)
          OR
          (type = 'public_key' AND prefix IS NULL AND hash IS NULL
             AND jwk IS NOT NULL AND jsonb_typeof(jwk) = 'object'
             AND kid IS NOT NULL AND char_length(kid) BETWEEN 1 AND 200
             AND alg IN ('RS256', 'PS256', 'ES256', 'EdDSA')
             AND thumbprint ~ '^[A-Za-z0-9_-]{43}$')
        )`);
    await q.query(`ALTER TABLE credentials ALTER COLUMN type DROP DEFAULT`);
    await q.query(`
      CREATE UNIQUE INDEX credentials_public_key_kid_idx ON credentials (agent_id, kid)
      WHERE type = 'public_key' AND status = 'active' AND rotated_to_id IS NULL`);
    await q.query(`
      CREATE UNIQUE INDEX credentials_public_key_thumbprint_idx ON credentials (agent_id, thumbprint)
      WHERE type = 'public_key' AND status = 'active' AND rotated_to_id IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX credentials_public_key_thumbprint_idx`);
    await q.query(`DROP INDEX credentials_public_key_kid_idx`);
    await q.query(`
      UPDATE refresh_tokens SET parent_id = NULL WHERE family_id IN (
        SELECT f.id FROM refresh_families f JOIN credentials c ON c.id = f.credential_id
        WHERE c.type = 'public_key')`);
    await q.query(`
      DELETE FROM refresh_tokens WHERE family_id IN (
        SELECT f.id FROM refresh_families f JOIN credentials c ON c.id = f.credential_id
        WHERE c.type = 'public_key')`);
    await q.query(`
      DELETE FROM refresh_families WHERE credential_id IN (
        SELECT id FROM credentials WHERE type = 'public_key')`);
    await q.query(`
      UPDATE credentials SET rotated_to_id = NULL, grace_until = NULL
      WHERE rotated_to_id IN (SELECT id FROM credentials WHERE type = 'public_key')`);
    await q.query(`DELETE FROM credentials WHERE type = 'public_key'`);
    await q.query(`
      ALTER TABLE credentials
        DROP CONSTRAINT credentials_type_columns,
        DROP CONSTRAINT credentials_type_check,
        ALTER COLUMN prefix SET NOT NULL,
        ALTER COLUMN hash SET NOT NULL,
        DROP COLUMN thumbprint,
        DROP COLUMN alg,
        DROP COLUMN kid,
        DROP COLUMN jwk,
        DROP COLUMN type`);
  }
}
