import type { MigrationInterface, QueryRunner } from 'typeorm';

const NEW_SCOPES: [name: string, description: string][] = [
  ['resource-servers:read', 'Read the resource servers (APIs) registered in your tree'],
  ['resource-servers:write', 'Register, update and delete resource servers'],
];

/** `column ∪ $1`, de-duplicated and sorted by code point (as libs/scopes `normalize` stores scope lists). */
function sortedUnion(column: string): string {
  return `ARRAY(SELECT s FROM (SELECT DISTINCT unnest(${column} || $1::text[]) AS s) u ORDER BY s COLLATE "C")`;
}

/**
 * Resource servers (CONTRACT §8, docs/resource-servers.md): the APIs that accept AgentAuth tokens, each
 * with an identifier (the RFC 8707 `resource`, the `aud` of its tokens) that is unique across the whole
 * server — every tree shares one issuer and one signing key, so a second tree holding the same identifier
 * could mint tokens the first tree's server accepts. Owned like policies (`owner_agent_id`, the creating
 * token's `sub`). Rows are deleted for real (the identifier becomes free again); the deletion writes a
 * `resource_server` revocation marker for the row's id and revokes the refresh families bound to it
 * (`refresh_families.resource_server_id`), so a new registration of the same identifier revives nothing.
 *
 * Also: the two new built-in scopes (seeded, and granted to every existing root agent and to its "full"
 * keys — those holding every scope the root held), and the `resource_server` revocation kind.
 */
export class ResourceServers1764510000000 implements MigrationInterface {
  name = 'ResourceServers1764510000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE resource_servers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        root_agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
        owner_agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
        identifier text COLLATE "C" NOT NULL,
        name text NOT NULL,
        description text NULL,
        scopes text[] NOT NULL,
        agent_id uuid NULL REFERENCES agents (id) ON DELETE RESTRICT,
        access_token_ttl_seconds integer NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT resource_servers_identifier_key UNIQUE (identifier),
        CONSTRAINT resource_servers_identifier_length CHECK (char_length(identifier) BETWEEN 1 AND 512),
        CONSTRAINT resource_servers_identifier_no_fragment CHECK (position('#' in identifier) = 0),
        CONSTRAINT resource_servers_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
        CONSTRAINT resource_servers_description_length CHECK (description IS NULL OR char_length(description) <= 1000),
        CONSTRAINT resource_servers_scopes_size CHECK (cardinality(scopes) BETWEEN 1 AND 100),
        CONSTRAINT resource_servers_ttl_range CHECK (access_token_ttl_seconds IS NULL OR access_token_ttl_seconds BETWEEN 10 AND 86400)
      )`);
    await q.query(
      `CREATE INDEX resource_servers_root_created_idx ON resource_servers (root_agent_id, created_at, id)`,
    );
    await q.query(`CREATE INDEX resource_servers_owner_idx ON resource_servers (owner_agent_id)`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON resource_servers TO agentauth_app`);

    await q.query(`ALTER TABLE refresh_families ADD COLUMN resource_server_id uuid NULL`);
    await q.query(
      `CREATE INDEX refresh_families_resource_server_idx ON refresh_families (resource_server_id)
       WHERE status = 'active' AND resource_server_id IS NOT NULL`,
    );

    await q.query(`ALTER TABLE revocations DROP CONSTRAINT revocations_kind_check`);
    await q.query(`
      ALTER TABLE revocations ADD CONSTRAINT revocations_kind_check
        CHECK (kind IN ('jti', 'credential', 'agent', 'family', 'delegation', 'resource_server'))`);

    await q.query(
      `INSERT INTO scopes (name, description, created_at)
       SELECT name, description, date_trunc('milliseconds', now()) FROM unnest($1::text[], $2::text[]) AS b(name, description)
       ON CONFLICT DO NOTHING`,
      [NEW_SCOPES.map(([name]) => name), NEW_SCOPES.map(([, description]) => description)],
    );
    const names = NEW_SCOPES.map(([name]) => name);
    // Full keys first (compared with the root's scopes before they grow), then the roots themselves.
    await q.query(
      `UPDATE credentials c SET scopes = ${sortedUnion('c.scopes')}
       FROM agents a
       WHERE c.agent_id = a.id AND a.parent_agent_id IS NULL AND c.status = 'active'
         AND a.allowed_scopes <@ c.scopes AND NOT ($1::text[] <@ c.scopes)`,
      [names],
    );
    await q.query(
      `UPDATE agents SET allowed_scopes = ${sortedUnion('allowed_scopes')}
       WHERE parent_agent_id IS NULL AND NOT ($1::text[] <@ allowed_scopes)`,
      [names],
    );
  }

  async down(q: QueryRunner): Promise<void> {
    const names = NEW_SCOPES.map(([name]) => name);
    for (const table of ['agents', 'credentials']) {
      const column = table === 'agents' ? 'allowed_scopes' : 'scopes';
      await q.query(
        `UPDATE ${table} SET ${column} = ARRAY(SELECT s FROM unnest(${column}) AS s WHERE s <> ALL($1::text[]))
         WHERE ${column} && $1::text[]`,
        [names],
      );
    }
    await q.query(`DELETE FROM scopes WHERE root_agent_id IS NULL AND name = ANY($1::text[])`, [names]);
    await q.query(`DELETE FROM revocations WHERE kind = 'resource_server'`);
    await q.query(`ALTER TABLE revocations DROP CONSTRAINT revocations_kind_check`);
    await q.query(`
      ALTER TABLE revocations ADD CONSTRAINT revocations_kind_check
        CHECK (kind IN ('jti', 'credential', 'agent', 'family', 'delegation'))`);
    await q.query(`DROP INDEX refresh_families_resource_server_idx`);
    await q.query(`ALTER TABLE refresh_families DROP COLUMN resource_server_id`);
    await q.query(`REVOKE ALL ON resource_servers FROM agentauth_app`);
    await q.query(`DROP TABLE resource_servers`);
  }
}
