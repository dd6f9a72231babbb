import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { pathInSubtree, restrictToSubtree, type TreeScope } from '@agentauth/agents';
import type { Keyset } from '@agentauth/core';
import type { DeliveryAttempt, DeliveryStatus } from './webhook-delivery.entity';
import { WebhookDelivery } from './webhook-delivery.entity';
import { Webhook } from './webhook.entity';

export interface Page {
  limit: number;
  after?: Keyset;
}

export interface AttemptRecord {
  status: DeliveryStatus;
  statusCode: number | null;
  error: string | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  attemptedAt: Date;
  durationMs: number;
}

// TypeORM's raw `query()` answers UPDATE/DELETE with `[rows, affectedCount]` and INSERT/SELECT with `rows`.

/**
 * Every query of the webhooks context. Tenant reads and writes take the caller's authority (the token's
 * `sub`) and see only webhooks OWNED by an agent of its subtree (itself included) — never an ancestor's or a
 * sibling's, never another tree's (like policies). The `…ForWorker` queries are the worker's, which acts
 * for the system on ids it was given by the queue.
 */
@Injectable()
export class WebhooksRepository {
  constructor(
    @InjectRepository(Webhook) private readonly webhooks: Repository<Webhook>,
    @InjectRepository(WebhookDelivery) private readonly deliveries: Repository<WebhookDelivery>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async insert(webhook: Webhook): Promise<Webhook> {
    await this.webhooks.insert(webhook);
    return webhook;
  }

  private visible(scope: TreeScope, rootAgentId: string) {
    return restrictToSubtree(
      this.webhooks.createQueryBuilder('w').innerJoin('agents', 'owner', 'owner.id = w.owner_agent_id'),
      'owner',
      scope,
    )
      .where('w.root_agent_id = :rootAgentId', { rootAgentId })
      .andWhere("w.status = 'active'");
  }

  findVisible(scope: TreeScope, rootAgentId: string, id: string): Promise<Webhook | null> {
    return this.visible(scope, rootAgentId).andWhere('w.id = :id', { id }).getOne();
  }

  /** Newest first, keyset on (created_at, id); reads `limit + 1` rows so the caller knows if more exist. */
  listVisible(scope: TreeScope, rootAgentId: string, page: Page): Promise<Webhook[]> {
    const qb = this.visible(scope, rootAgentId);
    if (page.after) {
      qb.andWhere('(w.created_at, w.id) < (:c, :i)', { c: page.after.createdAt, i: page.after.id });
    }
    return qb
      .orderBy('w.created_at', 'DESC')
      .addOrderBy('w.id', 'DESC')
      .limit(page.limit + 1)
      .getMany();
  }

  /**
   * Soft delete in one statement; false when the webhook is unknown, deleted, another tree's, or owned by
   * an agent outside the caller's subtree.
   */
  async softDelete(scope: TreeScope, rootAgentId: string, id: string, now: Date): Promise<boolean> {
    const [rows]: [unknown[], number] = await this.dataSource.query(
      `UPDATE webhooks w SET status = 'deleted', deleted_at = $4, updated_at = $4
         FROM agents owner, agents caller
        WHERE w.id = $1 AND w.root_agent_id = $2 AND w.status = 'active'
          AND owner.id = w.owner_agent_id AND caller.id = $3 AND ${pathInSubtree('owner', 'caller')}
        RETURNING w.id`,
      [id, rootAgentId, scope.agentId, now],
    );
    return rows.length > 0;
  }

  /** The deliveries of one webhook (the caller checked it may see the webhook). */
  listDeliveries(rootAgentId: string, webhookId: string, page: Page): Promise<WebhookDelivery[]> {
    const qb = this.deliveries
      .createQueryBuilder('d')
      .where('d.root_agent_id = :rootAgentId', { rootAgentId })
      .andWhere('d.webhook_id = :webhookId', { webhookId });
    if (page.after) {
      qb.andWhere('(d.created_at, d.id) < (:c, :i)', { c: page.after.createdAt, i: page.after.id });
    }
    return qb
      .orderBy('d.created_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .limit(page.limit + 1)
      .getMany();
  }

  /**
   * One pending delivery per active webhook that subscribed to the event (its type or `*`) and existed
   * when it occurred — of the event's root tree, or of every tree for a deployment-wide event (null
   * root) — and, for a tree event, whose owner's subtree holds one of the agents the event is about
   * (`aboutAgentIds`; null = deployment-wide). Idempotent: (webhook_id, event_id) is unique. Returns the
   * ids of the event's pending deliveries.
   */
  async createDeliveriesForWorker(event: {
    id: string;
    type: string;
    occurredAt: Date;
    rootAgentId: string | null;
    aboutAgentIds: string[] | null;
    body: string;
    now: Date;
  }): Promise<string[]> {
    await this.dataSource.query(
      `INSERT INTO webhook_deliveries (webhook_id, root_agent_id, event_id, event_type, body, status, attempts,
                                       attempt_log, created_at, updated_at)
       SELECT w.id, w.root_agent_id, $1, $2, $3, 'pending', 0, '[]'::jsonb, $4, $4
         FROM webhooks w
        WHERE w.status = 'active'
          AND ($5::uuid IS NULL OR w.root_agent_id = $5::uuid)
          AND w.created_at <= $6
          AND (w.events @> ARRAY[$2]::text[] OR w.events @> ARRAY['*']::text[])
          AND ($7::uuid[] IS NULL OR EXISTS (
                SELECT 1 FROM agents owner JOIN agents about ON about.id = ANY($7::uuid[])
                 WHERE owner.id = w.owner_agent_id AND ${pathInSubtree('about', 'owner')}))
       ON CONFLICT (webhook_id, event_id) DO NOTHING`,
      [event.id, event.type, event.body, event.now, event.rootAgentId, event.occurredAt, event.aboutAgentIds],
    );
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM webhook_deliveries WHERE event_id = $1 AND status = 'pending' ORDER BY id`,
      [event.id],
    );
    return rows.map((r) => r.id);
  }

  async loadDeliveryForWorker(
    deliveryId: string,
  ): Promise<{ delivery: WebhookDelivery; webhook: Webhook } | undefined> {
    const delivery = await this.deliveries.findOne({ where: { id: deliveryId } });
    if (!delivery) return undefined;
    const webhook = await this.webhooks.findOne({ where: { id: delivery.webhookId } });
    return webhook ? { delivery, webhook } : undefined;
  }

  /**
   * Logs one attempt atomically (only while the delivery is pending, so a re-run after success or final
   * failure changes nothing). Returns the attempt count, or undefined when it was no longer pending.
   */
  async recordAttemptForWorker(deliveryId: string, a: AttemptRecord): Promise<number | undefined> {
    const [rows]: [{ attempts: number }[], number] = await this.dataSource.query(
      `UPDATE webhook_deliveries
          SET attempts = attempts + 1,
              status = $2,
              last_status_code = $3,
              last_error = $4,
              next_attempt_at = $5,
              delivered_at = $6,
              updated_at = $7,
              attempt_log = attempt_log || jsonb_build_array(jsonb_build_object(
                'attempt', attempts + 1,
                'attempted_at', $8::text,
                'status_code', $3::int,
                'error', $4::text,
                'duration_ms', $9::int))
        WHERE id = $1 AND status = 'pending'
        RETURNING attempts`,
      [
        deliveryId,
        a.status,
        a.statusCode,
        a.error?.slice(0, 500) ?? null,
        a.nextAttemptAt,
        a.deliveredAt,
        a.attemptedAt,
        a.attemptedAt.toISOString(),
        a.durationMs,
      ],
    );
    return rows[0]?.attempts;
  }

  /** Ends a pending delivery without an attempt (its webhook was deleted). */
  async abandonForWorker(deliveryId: string, reason: string, now: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_deliveries SET status = 'failed', last_error = $2, next_attempt_at = NULL, updated_at = $3
        WHERE id = $1 AND status = 'pending'`,
      [deliveryId, reason.slice(0, 500), now],
    );
  }

  /** Retention: finished deliveries last updated before `cutoff`. */
  async purgeFinishedDeliveries(cutoff: Date): Promise<number> {
    const [, count]: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM webhook_deliveries WHERE status IN ('succeeded', 'failed') AND updated_at < $1`,
      [cutoff],
    );
    return count;
  }
}

export type { DeliveryAttempt };
