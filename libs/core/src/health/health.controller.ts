import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorResult,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import type Redis from 'ioredis';
import { Public } from '../auth-metadata/public.decorator';
import { REDIS } from '../redis/redis.module';
import { ReadinessRegistry } from './readiness.registry';

const CHECK_TIMEOUT_MS = 1500;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: TypeOrmHealthIndicator,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly readiness: ReadinessRegistry,
  ) {}

  @Get('health')
  @ApiOperation({ summary: 'Liveness: the process is up (no backend is consulted)' })
  @HealthCheck()
  liveness() {
    return this.health.check([]);
  }

  @Get('ready')
  @ApiOperation({
    summary: 'Readiness: PostgreSQL, Redis and every registered state are available (503 otherwise)',
  })
  @HealthCheck()
  readinessCheck() {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: CHECK_TIMEOUT_MS }),
      () => this.redisCheck(),
      ...this.readiness
        .all()
        .map((registered) => () => this.registeredCheck(registered.name, registered.check())),
    ]);
  }

  private async redisCheck(): Promise<HealthIndicatorResult> {
    const session = this.indicators.check('redis');
    try {
      await withTimeout(this.redis.ping(), CHECK_TIMEOUT_MS);
      return session.up();
    } catch (error) {
      return session.down({ message: error instanceof Error ? error.message : 'unreachable' });
    }
  }

  private async registeredCheck(
    name: string,
    result: Promise<true | string>,
  ): Promise<HealthIndicatorResult> {
    const session = this.indicators.check(name);
    try {
      const outcome = await withTimeout(result, CHECK_TIMEOUT_MS);
      return outcome === true ? session.up() : session.down({ message: outcome });
    } catch (error) {
      return session.down({ message: error instanceof Error ? error.message : 'failed' });
    }
  }
}
