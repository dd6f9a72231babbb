import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { treeScopeOf } from '@agentauth/agents';
import {
  assertDirectAuthority,
  APP_CONFIG,
  type AppConfig,
  Clock,
  NotFoundProblem,
  type Principal,
  ValidationProblem,
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  toPage,
} from '@agentauth/core';
import {
  CreatedWebhookView,
  WebhookDeliveryListView,
  WebhookListView,
  WebhookView,
} from './dto/webhook.view';
import { WebhookDeliveryView } from './dto/webhook.view';
import { newWebhookSecret } from './webhook-signature';
import { WebhookSecrets } from './webhook-secrets';
import {
  parseWebhookUrl,
  vetWebhookTarget,
  WEBHOOK_RESOLVER,
  type WebhookResolver,
  WebhookTargetRefused,
} from './webhook-target';
import { ALL_EVENTS } from './webhook-events';
import type { Webhook } from './webhook.entity';
import { WebhooksRepository } from './webhooks.repository';

export interface ListOptions {
  limit?: number;
  cursor?: string;
}

/**
 * Webhook subscriptions (CONTRACT §7). A webhook is owned by the `sub` of the token that created it, and
 * visible to and managed by that agent and its ancestors only: an ancestor's, a sibling's or another tree's
 * webhook answers exactly like an unknown id (404). A token carrying `act` cannot create or delete one.
 */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly repository: WebhooksRepository,
    private readonly secrets: WebhookSecrets,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WEBHOOK_RESOLVER) private readonly resolver: WebhookResolver,
  ) {}

  async create(
    principal: Principal,
    input: { url: string; events: string[]; description?: string },
  ): Promise<CreatedWebhookView> {
    assertDirectAuthority(principal, 'create or delete webhooks');
    const url = await this.checkTarget(input.url);
    const secret = newWebhookSecret();
    const now = this.clock.now();
    const events = input.events.includes(ALL_EVENTS) ? [ALL_EVENTS] : [...input.events].sort();
    const webhook = await this.repository.insert({
      id: randomUUID(),
      rootAgentId: principal.rootAgentId,
      createdByAgentId: principal.subjectAgentId,
      ownerAgentId: principal.subjectAgentId,
      url: url.toString(),
      events,
      description: input.description ?? null,
      secretEncrypted: this.secrets.seal(secret),
      status: 'active',
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    });
    return { ...WebhookView.of(webhook), secret };
  }

  async list(principal: Principal, options: ListOptions): Promise<WebhookListView> {
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repository.listVisible(
      treeScopeOf(principal.subjectAgentId),
      principal.rootAgentId,
      {
        limit,
        after: options.cursor ? decodeCursor(options.cursor) : undefined,
      },
    );
    return toPage(rows, limit, WebhookView.of);
  }

  async get(principal: Principal, id: string): Promise<WebhookView> {
    return WebhookView.of(await this.visible(principal, id));
  }

  async delete(principal: Principal, id: string): Promise<void> {
    assertDirectAuthority(principal, 'create or delete webhooks');
    const deleted = await this.repository.softDelete(
      treeScopeOf(principal.subjectAgentId),
      principal.rootAgentId,
      id,
      this.clock.now(),
    );
    if (!deleted) throw new NotFoundProblem('webhook');
  }

  async deliveries(principal: Principal, id: string, options: ListOptions): Promise<WebhookDeliveryListView> {
    const after = options.cursor ? decodeCursor(options.cursor) : undefined;
    await this.visible(principal, id);
    const limit = options.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repository.listDeliveries(principal.rootAgentId, id, { limit, after });
    return toPage(rows, limit, WebhookDeliveryView.of);
  }

  private async visible(principal: Principal, id: string): Promise<Webhook> {
    const webhook = await this.repository.findVisible(
      treeScopeOf(principal.subjectAgentId),
      principal.rootAgentId,
      id,
    );
    if (!webhook) throw new NotFoundProblem('webhook');
    return webhook;
  }

  /** Subscription-time SSRF check (repeated at every delivery against DNS rebinding). */
  private async checkTarget(raw: string): Promise<URL> {
    try {
      const url = parseWebhookUrl(raw);
      await vetWebhookTarget(url, this.resolver, this.config.webhookAllowPrivateTargets);
      return url;
    } catch (error) {
      if (error instanceof WebhookTargetRefused) {
        throw new ValidationProblem('The webhook URL is not allowed', [
          { field: 'url', message: error.reason },
        ]);
      }
      throw error;
    }
  }
}
