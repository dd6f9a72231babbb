import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ROOT_LOGGER } from '../logging/logging.module';
import { PinoTypeOrmLogger } from '../logging/typeorm-logger';
import { buildDataSourceOptions } from './data-source-options';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG, ROOT_LOGGER],
      useFactory: (config: AppConfig, rootLogger: Logger) => {
        if (!config.databaseUrl) {
          throw new Error('DATABASE_URL is not set (the embedded mode is not available yet)');
        }
        const pinoLogger = new PinoLogger({ pinoHttp: { logger: rootLogger } });
        return {
          ...buildDataSourceOptions({
            url: config.databaseUrl,
            appRole: config.databaseAppRole || undefined,
            poolSize: config.databasePoolSize,
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
})
export class DatabaseModule {}
