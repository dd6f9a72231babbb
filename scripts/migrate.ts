/**
 * `make migrate` (apply pending migrations) and `make migrate-revert` (undo the last one).
 * Usage: node dist/scripts/migrate.js [up|down]
 */
import { databaseUrlsFromEnvironment, readEnvironment } from '../libs/core/src/config/app-config';
import { DEFAULT_DATABASE_APP_ROLE, enableAppRoleLogin } from '../libs/core/src/database/app-role';
import { createScriptLogger } from '../libs/core/src/logging/logger-options';
import { migrationDataSource } from '../migrations/data-source';

const logger = createScriptLogger('agentauth-migrate', readEnvironment());

async function main(): Promise<void> {
  const direction = process.argv[2] ?? 'up';
  const dataSource = await migrationDataSource().initialize();
  try {
    if (direction === 'down') {
      await dataSource.undoLastMigration({ transaction: 'each' });
      logger.info('reverted the last migration');
    } else {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      logger.info({ count: applied.length, names: applied.map((m) => m.name) }, 'migrations applied');
      const env = readEnvironment();
      const enabled = await enableAppRoleLogin(
        (sql) => dataSource.query(sql),
        databaseUrlsFromEnvironment(env).databaseUrl,
        env.DATABASE_APP_ROLE?.trim() || DEFAULT_DATABASE_APP_ROLE,
      );
      if (enabled)
        logger.info({ role: enabled }, 'the API logs in as the least-privilege role: login enabled');
    }
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  logger.fatal({ error: error instanceof Error ? error.message : String(error) }, 'migration failed');
  process.exit(1);
});
