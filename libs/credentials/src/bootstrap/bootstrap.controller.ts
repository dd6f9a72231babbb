import { Body, Controller, Post, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AgentResponse, agentView, BootstrapAgentDto } from '@agentauth/agents';
import { Audited, annotateAudit } from '@agentauth/audit';
import { Public } from '@agentauth/core';
import { BootstrapRateLimit } from '@agentauth/ratelimit';
import { IssuedCredentialResponse, issuedCredentialView } from '../dto/credential.response';
import { BootstrapService } from './bootstrap.service';

export class BootstrapResponse {
  @ApiProperty({ type: AgentResponse }) agent: AgentResponse;
  @ApiProperty({ type: IssuedCredentialResponse }) credential: IssuedCredentialResponse;
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

@ApiTags('agents')
@Controller('agents')
export class BootstrapController {
  constructor(private readonly bootstrap: BootstrapService) {}

  @Post('bootstrap')
  @Public()
  @BootstrapRateLimit()
  @Audited('agent.bootstrapped', { targetType: 'agent' })
  @ApiOperation({
    summary:
      'Self-register a root agent and its first API key (shown once), or — with a public `jwk` — its first public key (a secretless root: private_key_jwt)',
    description:
      'Rate limited per IP (BOOTSTRAP_RATE_LIMIT_PER_HOUR). Closed in production unless BOOTSTRAP_OPEN, or X-Bootstrap-Token / X-Admin-Key.',
  })
  @ApiHeader({ name: 'X-Bootstrap-Token', required: false })
  @ApiCreatedResponse({ type: BootstrapResponse })
  async create(@Body() dto: BootstrapAgentDto, @Req() req: Request): Promise<BootstrapResponse> {
    this.bootstrap.assertOpen({
      bootstrapToken: header(req, 'x-bootstrap-token'),
      adminKey: header(req, 'x-admin-key'),
    });
    const { agent, credential, apiKey } = await this.bootstrap.bootstrap(dto);
    annotateAudit(req, {
      targetId: agent.id,
      actorAgentId: agent.id,
      rootAgentId: agent.id,
      details: { credential_id: credential.id, credential_type: credential.type },
    });
    return { agent: agentView(agent), credential: issuedCredentialView(credential, apiKey) };
  }
}
