import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import * as os from 'node:os';
import type Redis from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { REDIS } from '@agentauth/core';

const INTERVAL_MS = 10_000;
const TTL_SECONDS = 30;

/**
 * The worker's health signal: a Redis key with a TTL, refreshed every 10 s. Operators (and the API's
 * stats) see live workers as `worker:heartbeat:*` keys; a dead worker's key expires within 30 s.
 */
@Injectable()
export class WorkerHeartbeat implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  readonly key = `worker:heartbeat:${os.hostname()}:${process.pid}`;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('WorkerHeartbeat');
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.redis.del(this.key).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    try {
      await this.redis.set(this.key, new Date().toISOString(), 'EX', TTL_SECONDS);
    } catch (error) {
      this.logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'heartbeat failed');
    }
  }
}
