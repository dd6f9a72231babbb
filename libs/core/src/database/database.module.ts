import {
  DynamicModule,
  Inject,
  Injectable,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EmbeddedPostgres, type MigrationClass } from '../embedded/embedded-postgres';
import { ROOT_LOGGER } from '../logging/logging.module';
import { PinoTypeOrmLogger } from '../logging/typeorm-logger';
import { assertLeastPrivilegeLogin } from './app-role';
import { buildDataSourceOptions } from './data-source-options';

/** DI token of the running `EmbeddedPostgres`, or `null` when `DATABASE_URL` is set. */
export const EMBEDDED_POSTGRES = Symbol('EMBEDDED_POSTGRES');

export interface DatabaseModuleOptions {
  /**
   * The migrations the embedded mode applies at start-up (`migrations/index.ts`). A process that does not
   * pass them (the worker, tools) refuses to run without `DATABASE_URL`.
   */
  embeddedMigrations?: MigrationClass[];
}

/**
 * Socket connections the embedded PostgreSQL accepts: the app's one-connection pool, the audit writer's
 * own one-connection pool, and room for a migration run or a tool connection.
 */
const EMBEDDED_MAX_CONNECTIONS = 8;

/** Closes the TypeORM pool, then the embedded PostgreSQL (after every module's onModuleDestroy flushed). */
@Injectable()
class EmbeddedPostgresLifecycle implements OnApplicationShutdown {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Optional() @Inject(EMBEDDED_POSTGRES) private readonly embedded: EmbeddedPostgres | null,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.embedded) return;
    if (this.dataSource.isInitialized) await this.dataSource.destroy().catch(() => undefined);
    await this.embedded.stop();
    this.logger.info({ component: 'embedded-postgres' }, 'embedded PostgreSQL stopped');
  }
}

/**
 * In production the API and worker must log in as the least-privilege role itself: a session that logged in
 * as the owner (or a superuser) and switched roles can switch back and rewrite the audit trail. Fails start-up.
 */
@Injectable()
class LeastPrivilegeLoginCheck implements OnApplicationBootstrap {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.environment !== 'production') return;
    await assertLeastPrivilegeLogin((sql) => this.dataSource.query(sql));
  }
}

@Module({})
class EmbeddedPostgresModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: EmbeddedPostgresModule,
      providers: [
        {
          provide: EMBEDDED_POSTGRES,
          inject: [APP_CONFIG, ROOT_LOGGER],
          useFactory: async (config: AppConfig, logger: Logger): Promise<EmbeddedPostgres | null> => {
            if (config.databaseUrl) return null;
            if (!options.embeddedMigrations) {
              throw new Error(
                'DATABASE_URL is not set: only the API runs the embedded mode (it runs the jobs in-process); set DATABASE_URL and REDIS_URL to run this process',
              );
            }
            const embedded = await EmbeddedPostgres.start({
              dataDir: config.embeddedDataDir,
              maxConnections: EMBEDDED_MAX_CONNECTIONS,
            });
            try {
              const applied = await embedded.migrate(options.embeddedMigrations);
              logger.info(
                { component: 'embedded-postgres', migrations_applied: applied.length, names: applied },
                'embedded PostgreSQL ready',
              );
            } catch (error) {
              await embedded.stop().catch(() => undefined);
              throw error;
            }
            return embedded;
          },
        },
      ],
      exports: [EMBEDDED_POSTGRES],
    };
  }
}

/**
 * TypeORM on PostgreSQL. With `DATABASE_URL` unset (outside production) the same TypeORM code runs on the
 * embedded PostgreSQL (PGlite) instead: pool `max: 1` (PGlite serves one connection at a time and deadlocks a
 * transaction that waits on a second pooled connection) and no switch to `DATABASE_APP_ROLE` (the socket
 * server ignores connection-time `-c` options; everything runs as PGlite's superuser — docs/dev-mode.md).
 */
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions = {}): DynamicModule {
    const embeddedModule = EmbeddedPostgresModule.forRoot(options);
    return {
      module: DatabaseModule,
      imports: [
        embeddedModule,
        TypeOrmModule.forRootAsync({
          imports: [embeddedModule],
          inject: [APP_CONFIG, ROOT_LOGGER, EMBEDDED_POSTGRES],
          useFactory: (config: AppConfig, rootLogger: Logger, embedded: EmbeddedPostgres | null) => {
            const pinoLogger = new PinoLogger({ pinoHttp: { logger: rootLogger } });
            const connection = embedded
              ? { url: embedded.url, poolSize: 1 }
              : {
                  url: config.databaseUrl as string,
                  appRole: config.databaseAppRole || undefined,
                  poolSize: config.databasePoolSize,
                };
            return {
              ...buildDataSourceOptions({
                ...connection,
                logger: new PinoTypeOrmLogger(
                  pinoLogger,
                  config.logLevel === 'debug' || config.logLevel === 'trace',
                ),
              }),
              autoLoadEntities: true,
              retryAttempts: 3,
              retryDelay: 500,
            };
          },
        }),
      ],
      providers: [EmbeddedPostgresLifecycle, LeastPrivilegeLoginCheck],
      exports: [embeddedModule],
    };
  }
}
