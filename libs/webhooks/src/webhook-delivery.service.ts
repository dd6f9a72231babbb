import { Inject, Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig, Clock } from '@agentauth/core';
import { JobsProducer, QUEUES } from '@agentauth/jobs';
import { webhookAboutAgentIds, type WebhookPayload } from './webhook-events';
import { postWebhook } from './webhook-sender';
import { signatureHeader, WEBHOOK_HEADERS } from './webhook-signature';
import { WebhookSecrets } from './webhook-secrets';
import {
  parseWebhookUrl,
  type ResolvedAddress,
  vetWebhookTarget,
  WEBHOOK_RESOLVER,
  type WebhookResolver,
  WebhookTargetRefused,
} from './webhook-target';
import { WebhooksRepository } from './webhooks.repository';

/** Job names of the `webhooks` queue. */
export const WEBHOOK_JOBS = { event: 'event', deliver: 'deliver' } as const;

export interface WebhookEventJob {
  event: WebhookPayload;
}

export interface WebhookDeliverJob {
  deliveryId: string;
}

/** Which attempt this is (from the queue), so the last one marks the delivery failed. */
export interface AttemptContext {
  attempt: number;
  maxAttempts: number;
}

/**
 * - `succeeded`: 2xx received (now, or by an earlier run: re-runs are no-ops);
 * - `retry`: this attempt failed and the queue should retry with backoff;
 * - `failed`: given up (last attempt, target refused, webhook deleted) — do not retry.
 */
export type DeliveryOutcome =
  { status: 'succeeded' } | { status: 'retry'; error: string } | { status: 'failed'; error: string };

/**
 * The worker side of webhooks: fan an event out to the subscribed webhooks of its tree, then deliver each
 * one (signed, SSRF-checked again, at least once, with a logged attempt per try).
 */
@Injectable()
export class WebhookDeliveryService {
  constructor(
    private readonly repository: WebhooksRepository,
    private readonly secrets: WebhookSecrets,
    private readonly producer: JobsProducer,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WEBHOOK_RESOLVER) private readonly resolver: WebhookResolver,
  ) {
    this.logger.setContext('WebhookDeliveryService');
  }

  /**
   * One delivery row per matching webhook (idempotent), then one delivery job per pending delivery
   * (job id = delivery id, so a re-run of the fan-out never doubles a job). Returns the delivery ids.
   */
  async fanOut(event: WebhookPayload): Promise<string[]> {
    const ids = await this.repository.createDeliveriesForWorker({
      id: event.id,
      type: event.type,
      occurredAt: new Date(event.occurred_at),
      rootAgentId: event.root_agent_id,
      aboutAgentIds: webhookAboutAgentIds(event),
      body: JSON.stringify(event),
      now: this.clock.now(),
    });
    for (const deliveryId of ids) {
      await this.producer.add(
        QUEUES.webhooks,
        WEBHOOK_JOBS.deliver,
        { deliveryId } satisfies WebhookDeliverJob,
        {
          jobId: `delivery-${deliveryId}`,
          attempts: this.config.webhookMaxAttempts,
          backoff: { type: 'exponential', delay: this.config.webhookRetryBaseDelayMs },
        },
      );
    }
    this.logger.info(
      { event_id: event.id, event_type: event.type, deliveries: ids.length },
      'webhook event fanned out',
    );
    return ids;
  }

  /** One attempt of one delivery. Never throws for delivery failures; the outcome says what to do. */
  async deliver(deliveryId: string, context: AttemptContext): Promise<DeliveryOutcome> {
    const loaded = await this.repository.loadDeliveryForWorker(deliveryId);
    if (!loaded) return { status: 'failed', error: 'delivery not found' };
    const { delivery, webhook } = loaded;
    if (delivery.status === 'succeeded') return { status: 'succeeded' };
    if (delivery.status === 'failed') return { status: 'failed', error: delivery.lastError ?? 'failed' };
    if (webhook.status !== 'active') {
      await this.repository.abandonForWorker(deliveryId, 'webhook deleted', this.clock.now());
      return { status: 'failed', error: 'webhook deleted' };
    }
    const log = { delivery_id: deliveryId, webhook_id: webhook.id, event_id: delivery.eventId };

    let url: URL;
    let target: ResolvedAddress;
    try {
      url = parseWebhookUrl(webhook.url);
      target = await vetWebhookTarget(url, this.resolver, this.config.webhookAllowPrivateTargets);
    } catch (error) {
      if (!(error instanceof WebhookTargetRefused)) throw error;
      // A target that became private (DNS rebinding) is refused, never connected to, and not retried.
      const refused = `refused: ${error.reason}`;
      await this.record(deliveryId, context, { statusCode: null, error: refused, durationMs: 0 }, true);
      this.logger.warn({ ...log, error: refused }, 'webhook target refused at delivery');
      return { status: 'failed', error: refused };
    }

    const timestamp = this.clock.nowSeconds();
    const secret = this.secrets.open(webhook.secretEncrypted);
    const response = await postWebhook({
      url,
      target,
      body: delivery.body,
      timeoutMs: this.config.webhookTimeoutMs,
      headers: {
        [WEBHOOK_HEADERS.id]: delivery.id,
        [WEBHOOK_HEADERS.timestamp]: String(timestamp),
        [WEBHOOK_HEADERS.signature]: signatureHeader(secret, timestamp, delivery.body),
      },
    });
    const finalAttempt = context.attempt >= context.maxAttempts;
    await this.record(deliveryId, context, response, finalAttempt);
    const fields = {
      ...log,
      attempt: context.attempt,
      status_code: response.statusCode,
      duration_ms: response.durationMs,
    };
    if (response.error === null) {
      this.logger.info(fields, 'webhook delivered');
      return { status: 'succeeded' };
    }
    this.logger.warn(
      { ...fields, error: response.error, will_retry: !finalAttempt },
      'webhook attempt failed',
    );
    return finalAttempt
      ? { status: 'failed', error: response.error }
      : { status: 'retry', error: response.error };
  }

  private async record(
    deliveryId: string,
    context: AttemptContext,
    response: { statusCode: number | null; error: string | null; durationMs: number },
    final: boolean,
  ): Promise<void> {
    const now = this.clock.now();
    const succeeded = response.error === null;
    // BullMQ's exponential backoff: the retry after attempt n waits base × 2^(n-1).
    const nextAttemptAt =
      succeeded || final
        ? null
        : new Date(now.getTime() + this.config.webhookRetryBaseDelayMs * 2 ** (context.attempt - 1));
    await this.repository.recordAttemptForWorker(deliveryId, {
      status: succeeded ? 'succeeded' : final ? 'failed' : 'pending',
      statusCode: response.statusCode,
      error: response.error,
      nextAttemptAt,
      deliveredAt: succeeded ? now : null,
      attemptedAt: now,
      durationMs: response.durationMs,
    });
  }
}
