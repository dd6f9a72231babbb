import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { DeliveryAttempt, WebhookDelivery } from '../webhook-delivery.entity';
import type { Webhook } from '../webhook.entity';

export class WebhookView {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() url: string;
  @ApiProperty({ type: [String] }) events: string[];
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ enum: ['active'] }) status: string;
  @ApiProperty({ format: 'uuid', description: 'The root tree the webhook belongs to' }) root_agent_id: string;
  @ApiProperty({
    format: 'uuid',
    description:
      "The owner: the `sub` of the token that created it. Visible to and managed by the owner and its ancestors; it receives only events about the owner's subtree.",
  })
  owner_agent_id: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;

  static of(w: Webhook): WebhookView {
    return {
      id: w.id,
      url: w.url,
      events: w.events,
      description: w.description,
      status: w.status,
      root_agent_id: w.rootAgentId,
      owner_agent_id: w.ownerAgentId,
      created_at: w.createdAt.toISOString(),
      updated_at: w.updatedAt.toISOString(),
    };
  }
}

export class CreatedWebhookView extends WebhookView {
  @ApiProperty({
    description:
      'Signing secret (`whsec_…`), shown only in this response; it keys the HMAC of every delivery.',
  })
  secret: string;
}

export class WebhookListView {
  @ApiProperty({ type: [WebhookView] }) items: WebhookView[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}

export class DeliveryAttemptView {
  @ApiProperty() attempt: number;
  @ApiProperty({ format: 'date-time' }) attempted_at: string;
  @ApiProperty({ nullable: true, type: Number }) status_code: number | null;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty() duration_ms: number;
}

export class WebhookDeliveryView {
  @ApiProperty({ format: 'uuid', description: 'Also sent as the AgentAuth-Webhook-Id header' }) id: string;
  @ApiProperty({ format: 'uuid' }) webhook_id: string;
  @ApiProperty({ format: 'uuid', description: 'The event id (the payload `id`)' }) event_id: string;
  @ApiProperty() event_type: string;
  @ApiProperty({ enum: ['pending', 'succeeded', 'failed'] }) status: string;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: Number }) last_status_code: number | null;
  @ApiProperty({ nullable: true, type: String }) last_error: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) next_attempt_at: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, format: 'date-time' }) delivered_at: string | null;
  @ApiProperty({ type: [DeliveryAttemptView] }) attempt_log: DeliveryAttempt[];
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;

  static of(d: WebhookDelivery): WebhookDeliveryView {
    return {
      id: d.id,
      webhook_id: d.webhookId,
      event_id: d.eventId,
      event_type: d.eventType,
      status: d.status,
      attempts: d.attempts,
      last_status_code: d.lastStatusCode,
      last_error: d.lastError,
      next_attempt_at: d.nextAttemptAt?.toISOString() ?? null,
      delivered_at: d.deliveredAt?.toISOString() ?? null,
      attempt_log: d.attemptLog,
      created_at: d.createdAt.toISOString(),
      updated_at: d.updatedAt.toISOString(),
    };
  }
}

export class WebhookDeliveryListView {
  @ApiProperty({ type: [WebhookDeliveryView] }) items: WebhookDeliveryView[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}
