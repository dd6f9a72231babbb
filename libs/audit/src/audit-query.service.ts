import { Injectable } from '@nestjs/common';
import { ValidationProblem } from '@agentauth/core';
import { AuditEventDto, type AuditEventPageDto } from './dto/audit-event.dto';
import type { ListAuditEventsQueryDto } from './dto/list-audit-events.query.dto';
import { type AuditEventFilters, AuditRepository } from './audit.repository';

export const DEFAULT_PAGE_SIZE = 50;

/** Opaque cursor: base64url of `{"seq": <the last seq of the page>}`. */
export function encodeCursor(seq: number): string {
  return Buffer.from(JSON.stringify({ seq }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const invalid = () =>
    new ValidationProblem('The cursor is invalid', [{ field: 'cursor', message: 'cursor is invalid' }]);
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const seq = (parsed as { seq?: unknown } | null)?.seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw invalid();
  return seq;
}

/** The operators' read side of the trail (`GET /audit/events`). */
@Injectable()
export class AuditQueryService {
  constructor(private readonly repository: AuditRepository) {}

  async list(query: ListAuditEventsQueryDto): Promise<AuditEventPageDto> {
    const since = query.since !== undefined ? new Date(query.since) : undefined;
    const until = query.until !== undefined ? new Date(query.until) : undefined;
    for (const [field, value] of [
      ['since', since],
      ['until', until],
    ] as const) {
      if (value && Number.isNaN(value.getTime())) {
        throw new ValidationProblem('The request is invalid', [
          { field, message: `${field} is not a valid date` },
        ]);
      }
    }
    if (since && until && since.getTime() > until.getTime()) {
      throw new ValidationProblem('The request is invalid', [
        { field: 'since', message: 'since must not be after until' },
      ]);
    }
    const filters: AuditEventFilters = {
      eventType: query.event_type,
      agentId: query.agent_id?.toLowerCase(),
      rootAgentId: query.root_agent_id?.toLowerCase(),
      outcome: query.outcome,
      requestId: query.request_id,
      since,
      until,
      beforeSeq: query.cursor !== undefined ? decodeCursor(query.cursor) : undefined,
    };
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.repository.list(filters, limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map((e) => AuditEventDto.from(e)),
      next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1].seq) : null,
    };
  }
}
