import type { DataSourceOptions, Logger as TypeOrmLogger } from 'typeorm';
import { logsInAsAppRole } from './app-role';
import { SnakeNamingStrategy } from './snake-naming.strategy';

export interface DataSourceParams {
  url: string;
  /**
   * The least-privilege role the API runs as: when `url` logs in as another user (the owner), the connection
   * switches to it at connect time; when `url` logs in as this role, nothing to switch.
   */
  appRole?: string;
  poolSize?: number;
  logger?: TypeOrmLogger;
  entities?: DataSourceOptions['entities'];
  migrations?: DataSourceOptions['migrations'];
}

/** The one place TypeORM connection options are built (app, migration CLI, tests). */
export function buildDataSourceOptions(params: DataSourceParams): DataSourceOptions {
  return {
    type: 'postgres',
    url: params.url,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    namingStrategy: new SnakeNamingStrategy(),
    entities: params.entities ?? [],
    migrations: params.migrations ?? [],
    logger: params.logger,
    logging: params.logger ? ['error', 'warn', 'migration'] : false,
    maxQueryExecutionTime: 1000,
    extra: {
      max: params.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      ...(params.appRole && !logsInAsAppRole(params.url, params.appRole)
        ? { options: `-c role=${params.appRole}` }
        : {}),
      application_name: 'agentauth',
    },
  };
}
