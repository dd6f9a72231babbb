import { Injectable, OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { AuditService, type RecordedAuditEvent } from '@agentauth/audit';
import { JobsProducer, QUEUES } from '@agentauth/jobs';
import { type WebhookEventJob, WEBHOOK_JOBS } from './webhook-delivery.service';
import { webhookPayloadFor } from './webhook-events';

/**
 * Turns committed audit events of the webhook catalogue into ONE `webhooks/event` job each (job id =
 * event id). Fire-and-forget: the request that caused the event never waits for the queue, let alone
 * the worker; an enqueue failure is logged (with the event id) and does not fail the request.
 */
@Injectable()
export class WebhookEventPublisher implements OnModuleInit {
  constructor(
    private readonly audit: AuditService,
    private readonly producer: JobsProducer,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('WebhookEventPublisher');
  }

  onModuleInit(): void {
    this.audit.onRecorded((event) => this.publish(event));
  }

  publish(event: RecordedAuditEvent): void {
    const payload = webhookPayloadFor(event);
    if (!payload) return;
    this.producer
      .add(QUEUES.webhooks, WEBHOOK_JOBS.event, { event: payload } satisfies WebhookEventJob, {
        jobId: `event-${payload.id}`,
      })
      .catch((error: unknown) => {
        this.logger.error(
          {
            event_id: payload.id,
            event_type: payload.type,
            error: error instanceof Error ? error.message : String(error),
          },
          'could not enqueue webhook event',
        );
      });
  }
}
