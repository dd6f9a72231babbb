import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { createInProcessRedis } from '../embedded/in-process-redis';
import { ROOT_LOGGER } from '../logging/logging.module';
import { InvalidationBus } from './invalidation-bus';
import { REDIS } from './redis.tokens';

export { REDIS } from './redis.tokens';

/**
 * Options for every ioredis connection: fail fast (a revocation check must fail closed quickly rather
 * than hang), reconnect forever in the background.
 */
export function redisOptions(config: AppConfig, extra: RedisOptions = {}): RedisOptions {
  return {
    keyPrefix: config.redisKeyPrefix,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: 2000,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  };
}

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG, ROOT_LOGGER],
      useFactory: (config: AppConfig, logger: Logger) => {
        // REDIS_URL unset (never in production): the in-process adapter behind the same ioredis interface.
        if (!config.redisUrl) return createInProcessRedis(config);
        // Commands issued in the same event-loop turn (concurrent requests) share one write and one round trip.
        const client = new Redis(config.redisUrl, redisOptions(config, { enableAutoPipelining: true }));
        let lastError = '';
        client.on('error', (error: Error) => {
          // one line per distinct error, not one per reconnect attempt
          if (error.message !== lastError)
            logger.warn({ component: 'redis', error: error.message }, 'redis error');
          lastError = error.message;
        });
        client.on('ready', () => {
          lastError = '';
        });
        return client;
      },
    },
    RedisLifecycle,
    InvalidationBus,
  ],
  exports: [REDIS, InvalidationBus],
})
export class RedisModule {}
