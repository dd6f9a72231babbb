import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delegation chains (CONTRACT §6; docs/delegations.md). A row is one hop "delegator lets delegate act on
 * its authority within `scopes` until `expires_at`"; re-delegating a hop adds a child row. `path` is the
 * materialized path of delegation ids from the chain's first hop to the row itself (`<d1>/<d2>/…/<id>/`,
 * "C" collation): a row's chain is the ids inside its own path (primary-key lookups) and its descendants
 * are one index range scan (`path >= P AND path < P || '~'`) — no recursive queries.
 *
 * Rows are never deleted (revocation is a status change, kept for the audit trail); what defines a hop never
 * changes, and a revoked hop stays revoked (trigger). The same trigger checks on INSERT that a child really
 * continues its parent (same tree, same original delegator, delegator = the parent's delegate, depth + 1,
 * path extends the parent's), so the chain invariants hold below the application too.
 */
export class Delegations1764400800000 implements MigrationInterface {
  name = 'Delegations1764400800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE delegations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        root_agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
        original_delegator_id uuid NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
        delegator_agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
        delegate_agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE RESTRICT,
        parent_delegation_id uuid NULL REFERENCES delegations (id) ON DELETE RESTRICT,
        scopes text[] NOT NULL,
        depth integer NOT NULL,
        max_depth integer NULL,
        path text COLLATE "C" NOT NULL,
        token_jti uuid NOT NULL,
        status text NOT NULL DEFAULT 'active',
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz NULL,
        revocation_reason text NULL,
        CONSTRAINT delegations_not_to_self CHECK (delegator_agent_id <> delegate_agent_id),
        CONSTRAINT delegations_scopes_size CHECK (cardinality(scopes) BETWEEN 1 AND 100),
        CONSTRAINT delegations_depth_check
          CHECK (depth BETWEEN 1 AND 10 AND (depth = 1) = (parent_delegation_id IS NULL)),
        CONSTRAINT delegations_first_hop_origin
          CHECK (depth > 1 OR original_delegator_id = delegator_agent_id),
        CONSTRAINT delegations_max_depth_check CHECK (max_depth IS NULL OR max_depth BETWEEN depth AND 10),
        CONSTRAINT delegations_status_check CHECK (status IN ('active', 'revoked')),
        CONSTRAINT delegations_revoked_at CHECK ((status = 'revoked') = (revoked_at IS NOT NULL)),
        CONSTRAINT delegations_revocation_reason CHECK (
          (status = 'revoked') = (revocation_reason IS NOT NULL)
          AND (revocation_reason IS NULL
               OR revocation_reason IN ('revoked', 'parent_revoked', 'agent_deactivated', 'issue_failed'))
        ),
        CONSTRAINT delegations_expiry_after_creation CHECK (expires_at > created_at),
        CONSTRAINT delegations_path_shape
          CHECK (right(path, 37) = id::text || '/' AND char_length(path) = 37 * depth)
      )`);
    await q.query(`CREATE UNIQUE INDEX delegations_path_idx ON delegations (path)`);
    await q.query(`CREATE UNIQUE INDEX delegations_token_jti_idx ON delegations (token_jti)`);
    await q.query(`CREATE INDEX delegations_root_created_idx ON delegations (root_agent_id, created_at, id)`);
    await q.query(`CREATE INDEX delegations_parent_idx ON delegations (parent_delegation_id)`);
    // The deactivation cascade finds the active hops to and from a set of agents.
    await q.query(
      `CREATE INDEX delegations_active_delegator_idx ON delegations (delegator_agent_id) WHERE status = 'active'`,
    );
    await q.query(
      `CREATE INDEX delegations_active_delegate_idx ON delegations (delegate_agent_id) WHERE status = 'active'`,
    );
    await q.query(`
      CREATE FUNCTION delegations_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        parent delegations%ROWTYPE;
      BEGIN
        IF TG_OP = 'INSERT' THEN
          IF NEW.parent_delegation_id IS NOT NULL THEN
            SELECT * INTO parent FROM delegations WHERE id = NEW.parent_delegation_id;
            IF NOT FOUND
               OR parent.root_agent_id <> NEW.root_agent_id
               OR parent.original_delegator_id <> NEW.original_delegator_id
               OR parent.delegate_agent_id <> NEW.delegator_agent_id
               OR NEW.depth <> parent.depth + 1
               OR NEW.path <> parent.path || NEW.id::text || '/'
               OR NEW.expires_at > parent.expires_at
               OR (parent.max_depth IS NOT NULL
                   AND (NEW.depth > parent.max_depth OR NEW.max_depth IS NULL OR NEW.max_depth > parent.max_depth)) THEN
              RAISE EXCEPTION 'delegations: a re-delegation must continue its parent''s chain'
                USING ERRCODE = 'check_violation';
            END IF;
          ELSIF NEW.path <> NEW.id::text || '/' THEN
            RAISE EXCEPTION 'delegations: a first hop''s path is its own id' USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END IF;
        IF NEW.id <> OLD.id
           OR NEW.root_agent_id <> OLD.root_agent_id
           OR NEW.original_delegator_id <> OLD.original_delegator_id
           OR NEW.delegator_agent_id <> OLD.delegator_agent_id
           OR NEW.delegate_agent_id <> OLD.delegate_agent_id
           OR NEW.parent_delegation_id IS DISTINCT FROM OLD.parent_delegation_id
           OR NEW.scopes <> OLD.scopes
           OR NEW.depth <> OLD.depth
           OR NEW.max_depth IS DISTINCT FROM OLD.max_depth
           OR NEW.path <> OLD.path
           OR NEW.token_jti <> OLD.token_jti
           OR NEW.expires_at <> OLD.expires_at
           OR NEW.created_at <> OLD.created_at THEN
          RAISE EXCEPTION 'delegations: only status, revoked_at and revocation_reason change'
            USING ERRCODE = 'check_violation';
        END IF;
        IF OLD.status = 'revoked' AND (NEW.status <> 'revoked' OR NEW.revoked_at <> OLD.revoked_at) THEN
          RAISE EXCEPTION 'delegations: a revoked delegation stays revoked' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`
      CREATE TRIGGER delegations_guard BEFORE INSERT OR UPDATE ON delegations
      FOR EACH ROW EXECUTE FUNCTION delegations_guard()`);
    // Revocation is a status change: the app role never deletes delegations.
    await q.query(`GRANT SELECT, INSERT, UPDATE ON delegations TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE ALL ON delegations FROM agentauth_app`);
    await q.query(`DROP TABLE delegations`);
    await q.query(`DROP FUNCTION delegations_guard()`);
  }
}
