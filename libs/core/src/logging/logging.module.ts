import { DynamicModule, Global, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { createRootLogger, httpLoggerOptions } from './logger-options';

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
 * nestjs-pino bound to our root logger. The pino-http middleware itself is installed as the very first
 * Express middleware by `configureApiApp` (so body-parser errors get a request id too); nestjs-pino only
 * binds `req.log` into its async context (`useExisting`).
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
          useFactory: (logger: Logger) => ({ pinoHttp: httpLoggerOptions(logger), useExisting: true }),
        }),
      ],
      exports: [RootLoggerModule, LoggerModule],
    };
  }
}
