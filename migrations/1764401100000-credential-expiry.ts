import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Credentials past their `expires_at` become `status = 'expired'` (the `credentials.mark-expired`
 * maintenance task, docs/worker.md). The key already stops verifying at `expires_at` whatever its status;
 * the stored status is what lists, `/stats` and operators read. The partial index serves the task's
 * "active and due" query.
 */
export class CredentialExpiry1764401100000 implements MigrationInterface {
  name = 'CredentialExpiry1764401100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credentials DROP CONSTRAINT credentials_status_check`);
    await q.query(`
      ALTER TABLE credentials
        ADD CONSTRAINT credentials_status_check CHECK (status IN ('active', 'revoked', 'expired')),
        ADD CONSTRAINT credentials_expired_has_expiry CHECK (status <> 'expired' OR expires_at IS NOT NULL)`);
    await q.query(
      `CREATE INDEX credentials_expiry_due_idx ON credentials (expires_at)
       WHERE status = 'active' AND expires_at IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX credentials_expiry_due_idx`);
    await q.query(`
      ALTER TABLE credentials
        DROP CONSTRAINT credentials_expired_has_expiry,
        DROP CONSTRAINT credentials_status_check`);
    // An expired key is refused by its expires_at alone: back to 'active' loses nothing.
    await q.query(`UPDATE credentials SET status = 'active' WHERE status = 'expired'`);
    await q.query(
      `ALTER TABLE credentials ADD CONSTRAINT credentials_status_check CHECK (status IN ('active', 'revoked'))`,
    );
  }
}
