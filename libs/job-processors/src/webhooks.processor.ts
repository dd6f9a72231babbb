import { Injectable, OnModuleInit } from '@nestjs/common';
import { type Job, UnrecoverableError } from 'bullmq';
import { JobHandlers, QUEUES } from '@agentauth/jobs';
import {
  type WebhookDeliverJob,
  WebhookDeliveryService,
  type WebhookEventJob,
  WEBHOOK_JOBS,
} from '@agentauth/webhooks';

/**
 * `webhooks` queue: `event` fans one audit event out to the subscribed webhooks; `deliver` makes one
 * attempt of one delivery — a retryable failure throws so BullMQ retries with exponential backoff, a final
 * one (refused target, deleted webhook, last attempt) fails the job without retry.
 */
@Injectable()
export class WebhooksProcessor implements OnModuleInit {
  constructor(
    private readonly handlers: JobHandlers,
    private readonly deliveries: WebhookDeliveryService,
  ) {}

  onModuleInit(): void {
    this.handlers.register(QUEUES.webhooks, WEBHOOK_JOBS.event, async (job: Job<WebhookEventJob>) => ({
      deliveries: (await this.deliveries.fanOut(job.data.event)).length,
    }));
    this.handlers.register(QUEUES.webhooks, WEBHOOK_JOBS.deliver, (job: Job<WebhookDeliverJob>) =>
      this.deliver(job),
    );
  }

  private async deliver(job: Job<WebhookDeliverJob>): Promise<unknown> {
    const outcome = await this.deliveries.deliver(job.data.deliveryId, {
      attempt: job.attemptsMade + 1,
      maxAttempts: job.opts.attempts ?? 1,
    });
    if (outcome.status === 'retry') throw new Error(outcome.error);
    if (outcome.status === 'failed') throw new UnrecoverableError(outcome.error);
    return { delivered: true };
  }
}
