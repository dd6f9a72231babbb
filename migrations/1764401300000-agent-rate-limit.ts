import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `agents.rate_limit_per_minute`: the per-agent rate-limit override becomes a governed column
 * (docs/rate-limiting.md "Per-agent overrides"). It used to be read from `metadata.rate_limit_per_minute`,
 * which an agent may write on itself, so an agent could raise its own limit.
 *
 * Existing metadata values move into the column for non-root agents only: the effective limit is the
 * minimum along the chain and a root's unset value means RATE_LIMIT_AGENT_PER_MINUTE, so a moved value can
 * never exceed what its ancestors allow (a self-set value is harmless). A root's value is dropped: a root's
 * own value may exceed the default, so only the operator sets it. The key is removed from every metadata
 * object (the API refuses it there from now on).
 */
export class AgentRateLimit1764401300000 implements MigrationInterface {
  name = 'AgentRateLimit1764401300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE agents ADD COLUMN rate_limit_per_minute integer
        CONSTRAINT agents_rate_limit_per_minute_range CHECK (rate_limit_per_minute BETWEEN 1 AND 10000000)`);
    await q.query(`
      UPDATE agents SET rate_limit_per_minute = (metadata->>'rate_limit_per_minute')::integer
      WHERE parent_agent_id IS NOT NULL
        AND jsonb_typeof(metadata->'rate_limit_per_minute') = 'number'
        AND (metadata->>'rate_limit_per_minute') ~ '^[0-9]{1,8}$'
        AND (metadata->>'rate_limit_per_minute')::integer BETWEEN 1 AND 10000000`);
    await q.query(`
      UPDATE agents SET metadata = metadata - 'rate_limit_per_minute'
      WHERE metadata ? 'rate_limit_per_minute'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      UPDATE agents SET metadata = metadata || jsonb_build_object('rate_limit_per_minute', rate_limit_per_minute)
      WHERE rate_limit_per_minute IS NOT NULL`);
    await q.query(`ALTER TABLE agents DROP COLUMN rate_limit_per_minute`);
  }
}
