import { DataSource } from 'typeorm';
import { buildDataSourceOptions, databaseUrlsFromEnvironment } from '../libs/core/src';
import { MIGRATIONS } from './index';

/**
 * The data source of the migration tools (`make migrate`, the TypeORM CLI through ormconfig.ts, the test
 * setup): the owner connection (`MIGRATIONS_DATABASE_URL`, else `DATABASE_URL`; no role switch) and the
 * explicit migration list.
 */
export function migrationDataSource(url?: string): DataSource {
  const target = url ?? databaseUrlsFromEnvironment().migrationsDatabaseUrl;
  if (!target) throw new Error('DATABASE_URL is not set');
  return new DataSource(buildDataSourceOptions({ url: target, migrations: MIGRATIONS }));
}
