import { DynamicModule, Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { createRootLogger } from './logger-options';

/** The process's root pino logger (API, worker): every log line goes through it. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

@Global()
@Module({})
class RootLoggerModule {
  static forRoot(serviceName: string): DynamicModule {
    return {
      module: RootLoggerModule,
      providers: [
        {
          provide: ROOT_LOGGER,
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => createRootLogger(config, serviceName),
        },
      ],
      exports: [ROOT_LOGGER],
    };
  }
}

/**
 * nestjs-pino bound to our root logger. The request logger (`requestLoggerMiddleware`) is installed as the
 * very first Express middleware by `configureApiApp` (so body-parser errors get a request id too), which
 * also binds it into nestjs-pino's async context, lazily (`bindRequestLoggerMiddleware`, one plain Express
 * middleware after the body parsers), instead of nestjs-pino's own binding middleware (disabled:
 * `forRoutes: []`). Not through Nest's `MiddlewareConsumer`: with the global prefix and its exclusions Nest
 * registers a `{*path}` middleware as a dozen router layers that every request walks (docs/performance.md).
 */
@Module({})
export class LoggingModule {
  static forRoot(serviceName: string): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        RootLoggerModule.forRoot(serviceName),
        LoggerModule.forRootAsync({
          inject: [ROOT_LOGGER],
          useFactory: (logger: Logger) => ({ pinoHttp: { logger }, useExisting: true, forRoutes: [] }),
        }),
      ],
      exports: [RootLoggerModule, LoggerModule],
    };
  }
}
