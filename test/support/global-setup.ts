import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { migrationDataSource } from '../../migrations/data-source';
import { enableAppRoleLogin } from '../../libs/core/src/database/app-role';
import {
  adminUrl,
  appRoleLoginUrl,
  databaseName,
  databaseUrl,
  isAlive,
  runId,
  TEST_DB_PREFIX,
} from './test-env';
import { deleteTestKeys } from './global-teardown';
import { LOG_DIR } from './log-capture';

/**
 * Once per `jest` run: a template database migrated with the real migrations, cloned into one database
 * per jest worker. Names carry this run's id, so concurrent runs on one machine never share state.
 */
export default async function globalSetup(globalConfig: { maxWorkers: number }): Promise<void> {
  process.env.AGENTAUTH_TEST_RUN_ID = runId();
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await dropStaleDatabases(admin);
    await dropStaleKeysAndLogs();
    const template = databaseName('template');
    await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${template}"`);
    const dataSource = await migrationDataSource(databaseUrl('template')).initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    // What `make migrate` does when the API's DATABASE_URL names the app role (production's arrangement).
    await enableAppRoleLogin(
      (sql) => dataSource.query(sql),
      appRoleLoginUrl(databaseUrl('template')),
      'agentauth_app',
    );
    await dataSource.destroy();
    const workers = Math.max(1, globalConfig.maxWorkers);
    for (let worker = 1; worker <= workers; worker++) {
      const name = databaseName(String(worker));
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
    }
  } finally {
    await admin.end();
  }
}

/** Databases of earlier runs whose jest process is gone (a killed run never reached its teardown). */
async function dropStaleDatabases(admin: Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname LIKE '${TEST_DB_PREFIX}%'`,
  );
  for (const { datname } of rows) {
    const pid = Number(/^\d+/.exec(datname.slice(TEST_DB_PREFIX.length))?.[0]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => undefined);
  }
}

/** Redis keys and log files of earlier runs whose jest process is gone (killed before its teardown). */
async function dropStaleKeysAndLogs(): Promise<void> {
  const stale = (run: string) => {
    const pid = Number(run);
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid);
  };
  await deleteTestKeys(stale);
  for (const file of fs.existsSync(LOG_DIR) ? fs.readdirSync(LOG_DIR) : []) {
    if (stale(file.split('-')[0])) fs.rmSync(path.join(LOG_DIR, file), { force: true });
  }
}
