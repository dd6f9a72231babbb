import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { JobsProducer } from '@agentauth/jobs';
import { Metrics } from './metrics.service';

/**
 * `agentauth_queue_depth`: at each scrape, the API reads how many jobs wait in each BullMQ queue (one
 * counting call per queue, no job read; the scrape's collector timeout bounds a slow Redis). In the
 * embedded mode jobs run in-process and nothing is reported.
 */
@Injectable()
export class QueueDepthMetricsBridge implements OnModuleInit, OnModuleDestroy {
  private unregister?: () => void;

  constructor(
    private readonly jobs: JobsProducer,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.unregister = this.metrics.registerQueueDepthCollector(() => this.jobs.queueDepths());
  }

  onModuleDestroy(): void {
    this.unregister?.();
  }
}
