import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '@agentauth/core';
import { AuditQueryService } from './audit-query.service';
import { AuditEventPageDto } from './dto/audit-event.dto';
import { ListAuditEventsQueryDto } from './dto/list-audit-events.query.dto';
import { StatsDto } from './dto/stats.dto';
import { StatsService } from './stats.service';

@ApiTags('admin')
@AdminOnly()
@Controller()
export class AuditController {
  constructor(
    private readonly query: AuditQueryService,
    private readonly stats: StatsService,
  ) {}

  @Get('audit/events')
  @ApiOperation({ summary: 'Query the audit trail, newest first (X-Admin-Key)' })
  @ApiOkResponse({ type: AuditEventPageDto })
  listEvents(@Query() query: ListAuditEventsQueryDto): Promise<AuditEventPageDto> {
    return this.query.list(query);
  }

  @Get('stats')
  @ApiOperation({ summary: 'System statistics: every context’s counts and the audit trail’s (X-Admin-Key)' })
  @ApiOkResponse({ type: StatsDto })
  getStats(): Promise<Record<string, unknown>> {
    return this.stats.collect();
  }
}
