import { Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { RequestObservers } from '@agentauth/core';
import { JobsModule } from '@agentauth/jobs';
import { AuditMetricsBridge } from './audit-metrics.bridge';
import { MetricsAccess } from './metrics-access.service';
import { QueueDepthMetricsBridge } from './queue-depth-metrics.bridge';
import { RateLimitMetricsBridge } from './rate-limit-metrics.bridge';
import { MetricsController } from './metrics.controller';
import { MetricsModule } from './metrics.module';
import { Metrics } from './metrics.service';

/**
 * The API's observability: `GET /metrics`, the HTTP request metrics and the queue depths (read from the
 * jobs producer at scrape time). Requests are counted from the access-log middleware's finish event
 * (RequestObservers), which runs before everything else, so guard rejections, 404s and body-parser errors
 * are counted with the same route pattern the access log shows.
 */
@Module({
  imports: [MetricsModule, JobsModule],
  controllers: [MetricsController],
  providers: [MetricsAccess, AuditMetricsBridge, RateLimitMetricsBridge, QueueDepthMetricsBridge],
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
