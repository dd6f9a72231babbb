import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 17, finding 3 (CONTRACT §7): a webhook is owned by the creating token's `sub` (`owner_agent_id`),
 * visible to and managed by it and its ancestors only (like policies), and receives only events about the
 * owner's subtree. Webhooks were scoped to the whole root tree: a leaf with `webhooks:*` listed and deleted
 * the root's. Existing webhooks become the tree root's (what they could see before is still theirs).
 */
export class WebhookOwner1764500100000 implements MigrationInterface {
  name = 'WebhookOwner1764500100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhooks ADD COLUMN owner_agent_id uuid NULL REFERENCES agents (id)`);
    await q.query(`UPDATE webhooks SET owner_agent_id = root_agent_id`);
    await q.query(`ALTER TABLE webhooks ALTER COLUMN owner_agent_id SET NOT NULL`);
    await q.query(
      `CREATE INDEX webhooks_owner_created_idx ON webhooks (owner_agent_id, created_at DESC, id DESC)
        WHERE status = 'active'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhooks_owner_created_idx`);
    await q.query(`ALTER TABLE webhooks DROP COLUMN owner_agent_id`);
  }
}
