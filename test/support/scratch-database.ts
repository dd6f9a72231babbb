import { Client } from 'pg';
import { migrationDataSource } from '../../migrations/data-source';
import { adminUrl, databaseName, databaseUrl, workerId } from './test-env';

export interface ScratchDatabase {
  url: string;
  /** A connected client as the owner (the superuser the tests use). */
  owner(): Promise<Client>;
  drop(): Promise<void>;
}

/**
 * A fresh database of this run, migrated with the real migrations, for tests that must not leave traces in
 * the worker's shared database (a deliberately broken audit chain, statistics of thousands of rows).
 * Named under the run's prefix so global teardown drops it even if the test does not.
 */
export async function createScratchDatabase(label: string): Promise<ScratchDatabase> {
  const suffix = `${label}_${workerId()}`;
  const name = databaseName(suffix);
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(suffix);
  const ds = await migrationDataSource(url).initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
  const clients: Client[] = [];
  return {
    url,
    owner: async () => {
      const client = new Client({ connectionString: url });
      await client.connect();
      clients.push(client);
      return client;
    },
    drop: async () => {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      const a = new Client({ connectionString: adminUrl() });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
