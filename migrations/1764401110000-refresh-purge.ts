import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Refresh families past their `expires_at` (plus a grace) are deleted with their tokens by the
 * `refresh-tokens.purge-expired` maintenance task (docs/worker.md): the app role gets DELETE on both
 * tables, and the indexes the purge needs — families by expiry, and every token of a family / every child
 * of a token (the foreign-key checks of the DELETE look them up). The partial `refresh_tokens_family_idx`
 * (active tokens only) becomes a full index on `family_id`.
 */
export class RefreshPurge1764401110000 implements MigrationInterface {
  name = 'RefreshPurge1764401110000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX refresh_families_expires_idx ON refresh_families (expires_at)`);
    await q.query(`DROP INDEX refresh_tokens_family_idx`);
    await q.query(`CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)`);
    await q.query(
      `CREATE INDEX refresh_tokens_parent_idx ON refresh_tokens (parent_id) WHERE parent_id IS NOT NULL`,
    );
    await q.query(`GRANT DELETE ON refresh_families, refresh_tokens TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`REVOKE DELETE ON refresh_families, refresh_tokens FROM agentauth_app`);
    await q.query(`DROP INDEX refresh_tokens_parent_idx`);
    await q.query(`DROP INDEX refresh_tokens_family_idx`);
    await q.query(
      `CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id) WHERE status = 'active'`,
    );
    await q.query(`DROP INDEX refresh_families_expires_idx`);
  }
}
