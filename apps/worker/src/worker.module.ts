import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { APP_CONFIG, type AppConfig, CoreModule } from '@agentauth/core';
import { MetricsModule } from '@agentauth/observability';
import { WorkerHeartbeat } from './worker-heartbeat';

/** BullMQ connection options: no ioredis keyPrefix (BullMQ refuses it); queues use their own prefix. */
export function bullConnection(config: AppConfig) {
  if (!config.redisUrl) throw new Error('REDIS_URL is not set');
  const url = new URL(config.redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

@Module({
  imports: [
    CoreModule.forRoot({ serviceName: 'agentauth-worker' }),
    // Services shared with the API inject Metrics; the worker has no /metrics endpoint to expose them.
    MetricsModule,
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        connection: bullConnection(config),
        prefix: `${config.redisKeyPrefix}bull`,
      }),
    }),
  ],
  providers: [WorkerHeartbeat],
})
export class WorkerModule {}
