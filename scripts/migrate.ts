/**
 * `make migrate` (apply pending migrations) and `make migrate-revert` (undo the last one).
 * Usage: node dist/scripts/migrate.js [up|down]
 */
import { migrationDataSource } from '../migrations/data-source';

async function main(): Promise<void> {
  const direction = process.argv[2] ?? 'up';
  const dataSource = await migrationDataSource().initialize();
  try {
    if (direction === 'down') {
      await dataSource.undoLastMigration({ transaction: 'each' });
      console.log(JSON.stringify({ level: 'info', msg: 'reverted the last migration' }));
    } else {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      console.log(
        JSON.stringify({
          level: 'info',
          msg: 'migrations applied',
          count: applied.length,
          names: applied.map((m) => m.name),
        }),
      );
    }
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(
    JSON.stringify({
      level: 'fatal',
      msg: 'migration failed',
      error: error instanceof Error ? error.message : String(error),
    }),
  );
  process.exit(1);
});
