import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The agent hierarchy (CONTRACT §2). `path` is the materialized path of ids from the root to the agent
 * itself (`<root>/<child>/…/<id>/`, "C" collation): a subtree is one index range scan
 * (`path >= P AND path < P || '~'`) and an agent's ancestors are the ids inside its own path (primary-key
 * lookups) — no recursive queries. The columns that define the tree never change (trigger).
 */
export class Agents1764400100000 implements MigrationInterface {
  name = 'Agents1764400100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE agents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        description text NULL,
        version text NULL,
        capabilities text[] NOT NULL DEFAULT '{}',
        parent_agent_id uuid NULL REFERENCES agents (id) ON DELETE RESTRICT,
        root_agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
        trust_level text NOT NULL,
        status text NOT NULL DEFAULT 'active',
        allowed_scopes text[] NOT NULL DEFAULT '{}',
        metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
        depth integer NOT NULL,
        path text COLLATE "C" NOT NULL,
        expires_at timestamptz NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT agents_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
        CONSTRAINT agents_description_length CHECK (description IS NULL OR char_length(description) <= 2000),
        CONSTRAINT agents_version_length CHECK (version IS NULL OR char_length(version) <= 100),
        CONSTRAINT agents_capabilities_size CHECK (cardinality(capabilities) <= 50),
        CONSTRAINT agents_allowed_scopes_size CHECK (cardinality(allowed_scopes) <= 100),
        CONSTRAINT agents_trust_level_check CHECK (trust_level IN ('root', 'delegated', 'ephemeral')),
        CONSTRAINT agents_status_check CHECK (status IN ('active', 'suspended', 'deactivated')),
        CONSTRAINT agents_root_has_no_parent CHECK ((trust_level = 'root') = (parent_agent_id IS NULL)),
        CONSTRAINT agents_root_is_own_root CHECK (trust_level <> 'root' OR root_agent_id = id),
        CONSTRAINT agents_depth_check CHECK (depth BETWEEN 0 AND 50 AND (depth = 0) = (parent_agent_id IS NULL)),
        CONSTRAINT agents_ephemeral_expires CHECK (trust_level <> 'ephemeral' OR expires_at IS NOT NULL),
        CONSTRAINT agents_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
        CONSTRAINT agents_path_shape CHECK (
          left(path, 36) = root_agent_id::text
          AND right(path, 37) = id::text || '/'
          AND char_length(path) = 37 * (depth + 1)
        )
      )`);
    await q.query(`CREATE UNIQUE INDEX agents_path_idx ON agents (path)`);
    await q.query(`CREATE INDEX agents_parent_idx ON agents (parent_agent_id)`);
    await q.query(`CREATE INDEX agents_root_created_idx ON agents (root_agent_id, created_at, id)`);
    // Tree shape is immutable, and deactivation is final: enforced below the application too.
    await q.query(`
      CREATE FUNCTION agents_guard_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.id <> OLD.id
           OR NEW.parent_agent_id IS DISTINCT FROM OLD.parent_agent_id
           OR NEW.root_agent_id <> OLD.root_agent_id
           OR NEW.trust_level <> OLD.trust_level
           OR NEW.depth <> OLD.depth
           OR NEW.path <> OLD.path
           OR NEW.created_at <> OLD.created_at THEN
          RAISE EXCEPTION 'agents: id, parent_agent_id, root_agent_id, trust_level, depth, path and created_at never change'
            USING ERRCODE = 'check_violation';
        END IF;
        IF OLD.status = 'deactivated' AND NEW.status <> 'deactivated' THEN
          RAISE EXCEPTION 'agents: a deactivated agent stays deactivated' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER agents_guard_immutable BEFORE UPDATE ON agents
      FOR EACH ROW EXECUTE FUNCTION agents_guard_immutable()`);
    // Soft delete only: the app role never deletes agents.
    await q.query(`GRANT SELECT, INSERT, UPDATE ON agents TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON agents FROM agentauth_app`);
    await q.query(`DROP TABLE agents`);
    await q.query(`DROP FUNCTION agents_guard_immutable()`);
  }
}
