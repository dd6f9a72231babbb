import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Policies (CONTRACT §6). A policy belongs to one root tree and is owned by the agent whose authority
 * created it (`owner_agent_id`, the token's `sub`): it never reaches beyond the owner's subtree, and only
 * the owner or its ancestors see, change or delete it. Shapes are validated by the API
 * (`validatePolicyInput`); the CHECKs below are the structural safety net.
 *
 * `policy_set_versions` holds one counter per tree, bumped in the same transaction as every policy change:
 * the processes' compiled policy caches compare it to detect a change whose pub/sub message they missed.
 */
export class Policies1764400410000 implements MigrationInterface {
  name = 'Policies1764400410000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE policies (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        root_agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
        owner_agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
        name text NOT NULL,
        description text NULL,
        effect text NOT NULL,
        subjects text[] NOT NULL,
        actions text[] NOT NULL,
        resources text[] NOT NULL,
        conditions jsonb NOT NULL DEFAULT '{}'::jsonb,
        priority integer NOT NULL DEFAULT 0,
        enabled boolean NOT NULL DEFAULT true,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT policies_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
        CONSTRAINT policies_description_length CHECK (description IS NULL OR char_length(description) <= 1000),
        CONSTRAINT policies_effect_check CHECK (effect IN ('allow', 'deny')),
        CONSTRAINT policies_subjects_size CHECK (cardinality(subjects) BETWEEN 1 AND 100),
        CONSTRAINT policies_actions_size CHECK (cardinality(actions) BETWEEN 1 AND 100),
        CONSTRAINT policies_resources_size CHECK (cardinality(resources) BETWEEN 1 AND 100),
        CONSTRAINT policies_conditions_object CHECK (jsonb_typeof(conditions) = 'object'),
        CONSTRAINT policies_version_positive CHECK (version >= 1)
      )`);
    await q.query(`CREATE INDEX policies_root_created_idx ON policies (root_agent_id, created_at, id)`);
    await q.query(`CREATE INDEX policies_owner_idx ON policies (owner_agent_id)`);
    await q.query(`
      CREATE TABLE policy_set_versions (
        root_agent_id uuid PRIMARY KEY REFERENCES agents (id) ON DELETE RESTRICT,
        version bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT policy_set_versions_positive CHECK (version >= 1)
      )`);
    await q.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON policies TO agentauth_app`);
    await q.query(`GRANT SELECT, INSERT, UPDATE ON policy_set_versions TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON policy_set_versions FROM agentauth_app`);
    await q.query(`REVOKE ALL ON policies FROM agentauth_app`);
    await q.query(`DROP TABLE policy_set_versions`);
    await q.query(`DROP TABLE policies`);
  }
}
