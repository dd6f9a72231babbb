import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobsModule } from '@agentauth/jobs';
import { WebhookDeliveriesRetention } from './webhook-deliveries-retention';
import { WebhookDeliveryService } from './webhook-delivery.service';
import { WebhookDelivery } from './webhook-delivery.entity';
import { WebhookEventPublisher } from './webhook-event-publisher';
import { WebhookSecrets } from './webhook-secrets';
import { systemResolver, WEBHOOK_RESOLVER } from './webhook-target';
import { Webhook } from './webhook.entity';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/**
 * Webhooks of a root tree: the API (subscriptions, delivery log), the audit listener that enqueues events
 * (in every process that records audit events), and the delivery service the worker's processor calls.
 * Needs AuditModule (global) in the importing app.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Webhook, WebhookDelivery]), JobsModule],
  controllers: [WebhooksController],
  providers: [
    WebhooksRepository,
    WebhooksService,
    WebhookSecrets,
    WebhookDeliveryService,
    WebhookEventPublisher,
    WebhookDeliveriesRetention,
    { provide: WEBHOOK_RESOLVER, useValue: systemResolver },
  ],
  exports: [WebhooksService, WebhookDeliveryService],
})
export class WebhooksModule {}
