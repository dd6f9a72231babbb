import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly, BadRequestProblem } from '@agentauth/core';
import { verificationReport } from './audit-chain';
import { AuditQueryService } from './audit-query.service';
import { AuditService } from './audit.service';
import { AuditVerificationDto, VerifyAuditChainQueryDto } from './dto/audit-verification.dto';
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
    private readonly audit: AuditService,
  ) {}

  @Get('audit/verify')
  @ApiOperation({
    summary:
      'Walk the audit hash chain (or from_seq…to_seq) and name the first broken event (X-Admin-Key; `make audit-verify`)',
  })
  @ApiOkResponse({ type: AuditVerificationDto })
  async verify(@Query() query: VerifyAuditChainQueryDto): Promise<AuditVerificationDto> {
    if (query.from_seq !== undefined && query.to_seq !== undefined && query.to_seq < query.from_seq) {
      throw new BadRequestProblem('to_seq must not be less than from_seq', 'invalid_range');
    }
    return verificationReport(
      await this.audit.verifyChain(1000, { fromSeq: query.from_seq, toSeq: query.to_seq }),
    );
  }

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
