import { Injectable, OnModuleInit } from '@nestjs/common';
import { Clock } from '@agentauth/core';
import { MaintenanceTasks } from '@agentauth/jobs';
import { WebhooksRepository } from './webhooks.repository';

/** Finished deliveries (succeeded or failed) are kept this long for `GET /webhooks/{id}/deliveries`. */
export const WEBHOOK_DELIVERY_RETENTION_DAYS = 30;

/** Maintenance task `webhooks.purge-deliveries`: deletes finished deliveries past retention (idempotent). */
@Injectable()
export class WebhookDeliveriesRetention implements OnModuleInit {
  static readonly taskName = 'webhooks.purge-deliveries';

  constructor(
    private readonly tasks: MaintenanceTasks,
    private readonly repository: WebhooksRepository,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.tasks.register({ name: WebhookDeliveriesRetention.taskName, run: () => this.run() });
  }

  async run(): Promise<Record<string, number>> {
    const cutoff = new Date(this.clock.nowMs() - WEBHOOK_DELIVERY_RETENTION_DAYS * 24 * 3600 * 1000);
    return { deleted: await this.repository.purgeFinishedDeliveries(cutoff) };
  }
}
