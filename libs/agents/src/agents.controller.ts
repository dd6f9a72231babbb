import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Audited, annotateAudit } from '@agentauth/audit';
import {
  AdminOnly,
  Auth,
  ClientIpResolver,
  CurrentPrincipal,
  type Principal,
  requestIdOf,
  UuidParamPipe,
} from '@agentauth/core';
import { AgentsService } from './agents.service';
import { AgentPageResponse, AgentResponse, agentView, DeactivateAgentResponse } from './dto/agent.response';
import { CreateAgentDto } from './dto/create-agent.dto';
import { ListAgentsQuery } from './dto/list-agents.query';
import { SetRateLimitDto, UpdateAgentDto } from './dto/update-agent.dto';

@ApiTags('agents')
@Controller('agents')
export class AgentsController {
  constructor(
    private readonly agents: AgentsService,
    private readonly clientIp: ClientIpResolver,
  ) {}

  @Post()
  @Auth({ scopes: ['agents:write'] })
  @Audited('agent.created', { targetType: 'agent' })
  @ApiOperation({ summary: 'Register a child agent (of the caller, or of an agent of its subtree)' })
  @ApiOkResponse({ type: AgentResponse })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateAgentDto,
  ): Promise<AgentResponse> {
    return agentView(await this.agents.create(principal, dto));
  }

  @Get()
  @Auth({ scopes: ['agents:read'] })
  @ApiOperation({ summary: "List the caller's subtree (itself included)" })
  @ApiOkResponse({ type: AgentPageResponse })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListAgentsQuery,
  ): Promise<AgentPageResponse> {
    return this.agents.list(principal, query);
  }

  @Get(':id')
  @Auth({ scopes: ['agents:read'] })
  @ApiOperation({ summary: "Get an agent of the caller's subtree" })
  @ApiOkResponse({ type: AgentResponse })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<AgentResponse> {
    return agentView(await this.agents.findVisible(principal, id));
  }

  @Patch(':id')
  @Auth({ scopes: ['agents:write'] })
  @Audited('agent.updated', { targetType: 'agent' })
  @ApiOperation({
    summary: 'Update an agent',
    description:
      'Descriptive fields: the agent itself or an ancestor. allowed_scopes, expires_at, status (suspended|active), rate_limit_per_minute and require_dpop: strict ancestors only — every agent acting in the request (the token sub, client_id and each act member) must be one (403 not_strict_ancestor).',
  })
  @ApiOkResponse({ type: AgentResponse })
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: UpdateAgentDto,
    @Req() req: Request,
  ): Promise<AgentResponse> {
    const result = await this.agents.update(principal, id, dto);
    annotateAudit(req, {
      details: {
        fields: result.changedFields,
        ...(dto.status ? { status: result.agent.status } : {}),
        ...(dto.rate_limit_per_minute !== undefined
          ? { rate_limit_per_minute: result.agent.rateLimitPerMinute }
          : {}),
        ...(dto.require_dpop !== undefined ? { require_dpop: result.agent.requireDpop } : {}),
        ...(result.narrowedDescendants ? { narrowed_descendants: result.narrowedDescendants } : {}),
        ...(result.suspendedAgentIds.length ? { suspended_agents: result.suspendedAgentIds.length } : {}),
      },
    });
    return agentView(result.agent);
  }

  @Put(':id/rate-limit')
  @AdminOnly()
  @Audited('agent.rate_limit_set', { targetType: 'agent' })
  @ApiOperation({
    summary: "Operator: set or remove any agent's own rate-limit override (X-Admin-Key)",
    description:
      "The only way a root agent gets an override (it may exceed RATE_LIMIT_AGENT_PER_MINUTE). Below a root the value must not exceed the parent's effective limit. Tenants set their descendants' overrides with PATCH /agents/{id}.",
  })
  @ApiOkResponse({ type: AgentResponse })
  async setRateLimit(
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: SetRateLimitDto,
    @Req() req: Request,
  ): Promise<AgentResponse> {
    const agent = await this.agents.setRateLimitByOperator(id, dto.rate_limit_per_minute);
    annotateAudit(req, {
      rootAgentId: agent.rootAgentId,
      details: { rate_limit_per_minute: agent.rateLimitPerMinute, by: 'operator' },
    });
    return agentView(agent);
  }

  @Delete(':id')
  @HttpCode(200)
  @Auth({ scopes: ['agents:write'] })
  @Audited('agent.deactivated', { targetType: 'agent' })
  @ApiOperation({
    summary: 'Deactivate an agent and its whole subtree (soft delete; credentials revoked)',
    description:
      'Strict descendants of the caller only. Answers the ids this request deactivated, top-down. Audited as agent.deactivated (details.deactivated_agent_ids), plus one credential.revoked / delegation.revoked event per key and delegation the cascade revoked (details.cause = agent_deactivated).',
  })
  @ApiOkResponse({ type: DeactivateAgentResponse })
  async deactivate(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
  ): Promise<DeactivateAgentResponse> {
    const ids = await this.agents.deactivate(principal, id, {
      ip: this.clientIp.resolve(req),
      requestId: requestIdOf(req),
    });
    annotateAudit(req, { details: { deactivated_count: ids.length, deactivated_agent_ids: ids } });
    return { deactivated_agent_ids: ids };
  }
}
