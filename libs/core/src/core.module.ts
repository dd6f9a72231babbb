import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AuthGuard } from './auth-metadata/auth.guard';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { Clock } from './clock/clock';
import { DatabaseModule } from './database/database.module';
import type { MigrationClass } from './embedded/embedded-postgres';
import { ProblemDetailsFilter } from './errors/problem-details.filter';
import { ClientIpResolver } from './http/client-ip';
import { RequestObservers } from './http/request-observers';
import { createValidationPipe } from './http/validation';
import { LoggingModule } from './logging/logging.module';
import { RedisModule } from './redis/redis.module';

export interface CoreModuleOptions {
  serviceName: string;
  /** A prebuilt config (tests, tools); the environment is read when absent. */
  config?: AppConfig;
  /**
   * The migrations to apply to the embedded PostgreSQL when `DATABASE_URL` is unset (the API passes
   * `migrations/index.ts`). Without them the process refuses to start without `DATABASE_URL`.
   */
  embeddedMigrations?: MigrationClass[];
}

/** Shared infrastructure every process imports once: config, logging, database, Redis, clock. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(options: CoreModuleOptions): DynamicModule {
    return {
      module: CoreModule,
      imports: [
        ConfigModule.forRoot(options.config),
        LoggingModule.forRoot(options.serviceName),
        DatabaseModule.forRoot({ embeddedMigrations: options.embeddedMigrations }),
        RedisModule,
      ],
      providers: [Clock, ClientIpResolver, RequestObservers],
      exports: [ConfigModule, LoggingModule, RedisModule, Clock, ClientIpResolver, RequestObservers],
    };
  }

  /**
   * HTTP-only pieces for the API process: problem+json filter, validation pipe, and the deny-by-default
   * authentication guard (global guards run in registration order: authentication first, then e.g. rate limits).
   */
  static httpProviders() {
    return [
      { provide: APP_GUARD, useClass: AuthGuard },
      { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      { provide: APP_PIPE, useFactory: createValidationPipe },
    ];
  }
}
