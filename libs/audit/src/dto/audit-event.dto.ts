import { ApiProperty } from '@nestjs/swagger';
import type { RecordedAuditEvent } from '../audit-chain';
import type { AuditOutcome } from '../audit-event';

/** One audit event as `GET /audit/events` shows it. */
export class AuditEventDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time' }) occurred_at: string;
  @ApiProperty({ example: 'credential.rotated' }) event_type: string;
  @ApiProperty({ enum: ['success', 'failure', 'denied'] }) outcome: AuditOutcome;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) actor_agent_id: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) on_behalf_of: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'credential' }) target_type: string | null;
  @ApiProperty({ nullable: true, type: String }) target_id: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) root_agent_id: string | null;
  @ApiProperty({ nullable: true, type: String }) ip: string | null;
  @ApiProperty({ nullable: true, type: String }) request_id: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) details: Record<string, unknown>;
  @ApiProperty({ description: 'Position in the hash chain (commit order)' }) seq: number;
  @ApiProperty({ description: 'hash of the previous event (64 zeros for seq 1)' }) prev_hash: string;
  @ApiProperty({ description: 'SHA-256 (hex) of the canonical event (docs/audit.md)' }) hash: string;

  static from(e: RecordedAuditEvent): AuditEventDto {
    return {
      id: e.id,
      occurred_at: e.occurredAt,
      event_type: e.eventType,
      outcome: e.outcome,
      actor_agent_id: e.actorAgentId,
      on_behalf_of: e.onBehalfOf,
      target_type: e.targetType,
      target_id: e.targetId,
      root_agent_id: e.rootAgentId,
      ip: e.ip,
      request_id: e.requestId,
      details: e.details,
      seq: e.seq,
      prev_hash: e.prevHash,
      hash: e.hash,
    };
  }
}

export class AuditEventPageDto {
  @ApiProperty({ type: [AuditEventDto] }) items: AuditEventDto[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}
