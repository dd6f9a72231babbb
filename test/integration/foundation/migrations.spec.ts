import { Client } from 'pg';
import { migrationDataSource } from '../../../migrations/data-source';
import { MIGRATIONS } from '../../../migrations';
import { adminUrl, databaseName, databaseUrl } from '../../support/test-env';

/** Every migration's `down` undoes its `up`: the whole chain goes up, all the way down, and up again. */
describe('migrations round trip', () => {
  const suffix = `roundtrip_${process.env.JEST_WORKER_ID ?? '1'}`;
  const admin = new Client({ connectionString: adminUrl() });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${databaseName(suffix)}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${databaseName(suffix)}"`);
  });
  afterAll(async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${databaseName(suffix)}" WITH (FORCE)`);
    await admin.end();
  });

  async function tables(): Promise<string[]> {
    const db = new Client({ connectionString: databaseUrl(suffix) });
    await db.connect();
    try {
      const { rows } = await db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations' ORDER BY 1`,
      );
      return rows.map((r) => r.table_name);
    } finally {
      await db.end();
    }
  }

  it('applies, reverts and re-applies every migration', async () => {
    const ds = await migrationDataSource(databaseUrl(suffix)).initialize();
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      expect(applied).toHaveLength(MIGRATIONS.length);
      const schema = await tables();
      for (let i = 0; i < MIGRATIONS.length; i++) await ds.undoLastMigration({ transaction: 'each' });
      expect(await tables()).toEqual([]);
      const reapplied = await ds.runMigrations({ transaction: 'each' });
      expect(reapplied).toHaveLength(MIGRATIONS.length);
      expect(await tables()).toEqual(schema);
    } finally {
      await ds.destroy();
    }
  });
});
