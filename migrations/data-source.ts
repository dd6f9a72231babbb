import { DataSource } from 'typeorm';
// Direct file imports (no path aliases): jest's global setup loads this without the module mapper.
import { databaseUrlsFromEnvironment } from '../libs/core/src/config/app-config';
import { buildDataSourceOptions } from '../libs/core/src/database/data-source-options';
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
