import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The least-privilege role the API switches to after connecting (`DATABASE_APP_ROLE`). Migrations run as
 * the owner; the app gets only what each table's migration grants it.
 */
export class AppRole1764400000000 implements MigrationInterface {
  name = 'AppRole1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'agentauth_app') THEN
          CREATE ROLE agentauth_app NOLOGIN;
        END IF;
      END $$`);
    // Membership lets a non-superuser owner `SET ROLE agentauth_app` at connect time.
    await q.query(`
      DO $$ BEGIN
        IF NOT EXISTS (
          SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
          WHERE r.rolname = 'agentauth_app' AND u.rolname = current_user
        ) AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
          EXECUTE format('GRANT agentauth_app TO %I', current_user);
        END IF;
      END $$`);
    await q.query(`GRANT USAGE ON SCHEMA public TO agentauth_app`);
  }

  async down(q: QueryRunner): Promise<void> {
    // The role is cluster-wide and may serve other databases: only this database's grant is undone.
    await q.query(`REVOKE USAGE ON SCHEMA public FROM agentauth_app`);
  }
}
