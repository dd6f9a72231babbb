import { Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { RequestObservers } from '@agentauth/core';
import { AuditMetricsBridge } from './audit-metrics.bridge';
import { MetricsAccess } from './metrics-access.service';
import { RateLimitMetricsBridge } from './rate-limit-metrics.bridge';
import { MetricsController } from './metrics.controller';
import { MetricsModule } from './metrics.module';
import { Metrics } from './metrics.service';

/**
 * The API's observability: `GET /metrics` and the HTTP request metrics. Requests are counted from the
 * access-log middleware's finish event (RequestObservers), which runs before everything else, so guard
 * rejections, 404s and body-parser errors are counted with the same route pattern the access log shows.
 */
@Module({
  imports: [MetricsModule],
  controllers: [MetricsController],
  providers: [MetricsAccess, AuditMetricsBridge, RateLimitMetricsBridge],
  exports: [MetricsModule],
})
export class ObservabilityModule implements OnModuleInit, OnModuleDestroy {
  private unsubscribe?: () => void;

  constructor(
    private readonly observers: RequestObservers,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.observers.add(({ method, route, status, durationMs }) =>
      this.metrics.observeHttpRequest(method, route, status, durationMs),
    );
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}
