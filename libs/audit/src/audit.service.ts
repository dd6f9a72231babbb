import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { Clock } from '@agentauth/core';
import type { AuditEventInput } from './audit-event';

/**
 * The one way events are recorded. `record` resolves once the event is durably committed.
 */
@Injectable()
export class AuditService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('AuditService');
  }

  async record(event: AuditEventInput): Promise<void> {
    const occurredAt = this.clock.now();
    await this.dataSource.query(
      `INSERT INTO audit_events (occurred_at, event_type, outcome, actor_agent_id, on_behalf_of, target_type, target_id,
         root_agent_id, ip, request_id, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
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
  }
}
