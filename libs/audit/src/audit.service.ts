import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { Clock } from '@agentauth/core';
import type { AuditEventInput } from './audit-event';

/** An event as committed: the input plus the id and time the trail gave it. */
export type RecordedAuditEvent = AuditEventInput & { id: string; occurredAt: Date };

export type AuditEventListener = (event: RecordedAuditEvent) => void;

/**
 * The one way events are recorded. `record` resolves once the event is durably committed.
 */
@Injectable()
export class AuditService {
  private readonly listeners: AuditEventListener[] = [];

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('AuditService');
  }

  /**
   * Called with every event after it is committed (e.g. webhooks enqueue their fan-out). Listeners must
   * not block: they are called synchronously, and a throwing listener is logged and ignored.
   */
  onRecorded(listener: AuditEventListener): void {
    this.listeners.push(listener);
  }

  async record(event: AuditEventInput): Promise<void> {
    const occurredAt = this.clock.now();
    const rows: { id: string }[] = await this.dataSource.query(
      `INSERT INTO audit_events (occurred_at, event_type, outcome, actor_agent_id, on_behalf_of, target_type, target_id,
         root_agent_id, ip, request_id, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       RETURNING id`,
      [
        occurredAt,
        event.eventType,
        event.outcome,
        event.actorAgentId ?? null,
        event.onBehalfOf ?? null,
        event.targetType ?? null,
        event.targetId ?? null,
        event.rootAgentId ?? null,
        event.ip ?? null,
        event.requestId ?? null,
        JSON.stringify(event.details ?? {}),
      ],
    );
    this.logger.info(
      {
        event_type: event.eventType,
        outcome: event.outcome,
        actor_agent_id: event.actorAgentId ?? null,
        root_agent_id: event.rootAgentId ?? null,
        target_type: event.targetType ?? null,
        target_id: event.targetId ?? null,
      },
      'audit event',
    );
    const recorded: RecordedAuditEvent = { ...event, id: rows[0].id, occurredAt };
    for (const listener of this.listeners) {
      try {
        listener(recorded);
      } catch (error) {
        this.logger.error(
          { event_type: event.eventType, error: error instanceof Error ? error.message : String(error) },
          'audit listener failed',
        );
      }
    }
  }
}
