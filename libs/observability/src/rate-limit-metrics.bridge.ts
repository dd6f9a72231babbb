import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { RateLimiterService } from '@agentauth/ratelimit';
import { Metrics } from './metrics.service';

/** Counts rate-limit rejections by kind (agent, ip, bootstrap, client_auth). */
@Injectable()
export class RateLimitMetricsBridge implements OnModuleInit, OnModuleDestroy {
  private unsubscribe?: () => void;

  constructor(
    private readonly limiter: RateLimiterService,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.limiter.onRejected((rejection) => this.metrics.rateLimitRejected(rejection.kind));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}
