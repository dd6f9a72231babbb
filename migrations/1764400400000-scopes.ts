import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The built-in scopes of CONTRACT §5, as seeded here (a later migration adds any new one). */
const BUILT_INS: [name: string, description: string][] = [
  ['agents:read', 'Read the agents of your subtree'],
  ['agents:write', 'Create, update and deactivate the agents of your subtree'],
  ['credentials:read', 'List the API keys of your subtree (never their secrets)'],
  ['credentials:write', 'Create, rotate and revoke API keys'],
  ['delegations:read', 'Read delegations and their chains'],
  ['delegations:write', 'Create and revoke delegations'],
  ['policies:read', 'Read policies and evaluate decisions'],
  ['policies:write', 'Create, update and delete policies'],
  ['scopes:read', 'List the scopes registered for your tree'],
  ['scopes:write', 'Register custom scopes for your tree'],
  ['tokens:introspect', 'Introspect access tokens (RFC 7662)'],
  ['webhooks:read', 'Read webhook subscriptions'],
  ['webhooks:write', 'Create and delete webhook subscriptions'],
];

/** A scope name (libs/scopes `isValidScopeName`): lower-case words, `.`-joined segments, `:`-separated, optional final `*`. */
const NAME_PATTERN =
  '^[a-z0-9][a-z0-9_-]*(\\.[a-z0-9][a-z0-9_-]*)*(:[a-z0-9][a-z0-9_-]*(\\.[a-z0-9][a-z0-9_-]*)*)*(:\\*)?$';

/**
 * The scope registry (CONTRACT §6). Built-ins are global (`root_agent_id IS NULL`, seeded here, never
 * written by the app); custom scopes belong to one root tree. A name is unique among the globals and unique
 * within a tree (two partial unique indexes; the API maps the violation to 409). The app role may read and
 * insert only: a registered scope is never renamed or removed.
 *
 * Also widens two array bounds: a root holds every scope registered in its tree (docs/policies.md), so its
 * `allowed_scopes` and its full keys' `scopes` may hold up to the per-tree limit plus the built-ins.
 */
export class Scopes1764400400000 implements MigrationInterface {
  name = 'Scopes1764400400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE scopes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        root_agent_id uuid NULL REFERENCES agents (id) ON DELETE RESTRICT,
        name text COLLATE "C" NOT NULL,
        description text NULL,
        created_by uuid NULL REFERENCES agents (id) ON DELETE RESTRICT,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT scopes_name_length CHECK (char_length(name) BETWEEN 1 AND 128),
        CONSTRAINT scopes_name_grammar CHECK (name ~ '${NAME_PATTERN}' AND name <> 'offline_access'),
        CONSTRAINT scopes_description_length CHECK (description IS NULL OR char_length(description) <= 1000),
        CONSTRAINT scopes_custom_has_creator CHECK ((root_agent_id IS NULL) = (created_by IS NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX scopes_global_name_key ON scopes (name) WHERE root_agent_id IS NULL`);
    await q.query(
      `CREATE UNIQUE INDEX scopes_tree_name_key ON scopes (root_agent_id, name) WHERE root_agent_id IS NOT NULL`,
    );
    // Keyset listing of one tree; the globals are few and read through scopes_global_name_key's table scan.
    await q.query(`CREATE INDEX scopes_tree_created_idx ON scopes (root_agent_id, created_at, id)`);
    // Millisecond timestamps, like every row the app writes: list cursors carry milliseconds.
    await q.query(
      `INSERT INTO scopes (name, description, created_at)
       SELECT name, description, date_trunc('milliseconds', now()) FROM unnest($1::text[], $2::text[]) AS b(name, description)`,
      [BUILT_INS.map(([name]) => name), BUILT_INS.map(([, description]) => description)],
    );
    await q.query(`GRANT SELECT, INSERT ON scopes TO agentauth_app`);

    await q.query(`ALTER TABLE agents DROP CONSTRAINT agents_allowed_scopes_size`);
    await q.query(`
      ALTER TABLE agents ADD CONSTRAINT agents_allowed_scopes_size
        CHECK (cardinality(allowed_scopes) <= CASE WHEN trust_level = 'root' THEN 1000 ELSE 100 END)`);
    await q.query(`ALTER TABLE credentials DROP CONSTRAINT credentials_scopes_size`);
    await q.query(
      `ALTER TABLE credentials ADD CONSTRAINT credentials_scopes_size CHECK (cardinality(scopes) <= 1000)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credentials DROP CONSTRAINT credentials_scopes_size`);
    await q.query(
      `ALTER TABLE credentials ADD CONSTRAINT credentials_scopes_size CHECK (cardinality(scopes) <= 100)`,
    );
    await q.query(`ALTER TABLE agents DROP CONSTRAINT agents_allowed_scopes_size`);
    await q.query(
      `ALTER TABLE agents ADD CONSTRAINT agents_allowed_scopes_size CHECK (cardinality(allowed_scopes) <= 100)`,
    );
    await q.query(`REVOKE ALL ON scopes FROM agentauth_app`);
    await q.query(`DROP TABLE scopes`);
  }
}
