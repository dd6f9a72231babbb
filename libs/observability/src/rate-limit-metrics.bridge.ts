import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { RateLimiterService } from '@agentauth/ratelimit';
import { Metrics } from './metrics.service';

/**
 * Counts rate-limit rejections by kind (agent, ip, bootstrap, client_auth) and the requests the limiter let
 * through unchecked while Redis was unreachable (fail open).
 */
@Injectable()
export class RateLimitMetricsBridge implements OnModuleInit, OnModuleDestroy {
  private readonly unsubscribers: (() => void)[] = [];

  constructor(
    private readonly limiter: RateLimiterService,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.unsubscribers.push(
      this.limiter.onRejected((rejection) => this.metrics.rateLimitRejected(rejection.kind)),
      this.limiter.onFailOpen(() => this.metrics.rateLimitFailedOpen()),
    );
  }

  onModuleDestroy(): void {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
  }
}
