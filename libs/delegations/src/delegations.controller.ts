import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Audited, annotateAudit } from '@agentauth/audit';
import {
  Auth,
  ClientIpResolver,
  CurrentPrincipal,
  type Principal,
  requestIdOf,
  UuidParamPipe,
} from '@agentauth/core';
import { DelegationsService } from './delegations.service';
import { CreateDelegationDto } from './dto/create-delegation.dto';
import {
  chainHopView,
  CreatedDelegationResponse,
  DelegationChainResponse,
  DelegationPageResponse,
  DelegationResponse,
  delegationView,
  RevokeDelegationResponse,
} from './dto/delegation.response';
import { ListDelegationsQuery } from './dto/list-delegations.query';

@ApiTags('delegations')
@Controller('delegations')
export class DelegationsController {
  constructor(
    private readonly delegations: DelegationsService,
    private readonly clientIp: ClientIpResolver,
  ) {}

  @Post()
  @Auth({ scopes: ['delegations:write'] })
  @Audited('delegation.created', { targetType: 'delegation' })
  @ApiOperation({
    summary: "Delegate (part of) the caller's authority to an agent of the same tree, or re-delegate",
    description:
      "Scopes must be registered for the tree (400 unknown_scope) and ⊆ the delegator's allowed_scopes (or the parent delegation's effective scopes) and ⊆ the calling token's; expires_at ≤ the parent's; depth ≤ the parent's max_depth. Every escalation is a 403 and writes nothing. The response carries the delegation token (shown once).",
  })
  @ApiCreatedResponse({ type: CreatedDelegationResponse })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateDelegationDto,
    @Req() req: Request,
  ): Promise<CreatedDelegationResponse> {
    const { delegation, delegationToken } = await this.delegations.create(principal, dto);
    annotateAudit(req, {
      details: {
        delegator_agent_id: delegation.delegatorAgentId,
        delegate_agent_id: delegation.delegateAgentId,
        original_delegator_id: delegation.originalDelegatorId,
        parent_delegation_id: delegation.parentDelegationId,
        scopes: delegation.scopes,
        depth: delegation.depth,
        expires_at: delegation.expiresAt.toISOString(),
      },
    });
    return { ...delegationView(delegation), delegation_token: delegationToken };
  }

  @Get()
  @Auth({ scopes: ['delegations:read'] })
  @ApiOperation({
    summary: 'List the delegations the caller governs a party of (delegate, or a delegator of the chain)',
  })
  @ApiOkResponse({ type: DelegationPageResponse })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListDelegationsQuery,
  ): Promise<DelegationPageResponse> {
    return this.delegations.list(principal, query);
  }

  @Get(':id')
  @Auth({ scopes: ['delegations:read'] })
  @ApiOperation({ summary: 'Get a delegation' })
  @ApiOkResponse({ type: DelegationResponse })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<DelegationResponse> {
    return delegationView(await this.delegations.findVisible(principal, id));
  }

  @Get(':id/chain')
  @Auth({ scopes: ['delegations:read'] })
  @ApiOperation({
    summary: 'The chain from the first delegator to this delegation, its effective scopes and validity now',
  })
  @ApiOkResponse({ type: DelegationChainResponse })
  async chain(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<DelegationChainResponse> {
    const { chain, verdict } = await this.delegations.chainOf(principal, id);
    const last = chain[chain.length - 1];
    return {
      delegation_id: last.id,
      original_delegator_id: last.originalDelegatorId,
      chain: chain.map(chainHopView),
      effective_scopes: verdict.effectiveScopes,
      valid: verdict.valid,
      invalid_reason: verdict.reason ?? null,
      expires_at: verdict.expiresAt.toISOString(),
    };
  }

  @Delete(':id')
  @HttpCode(200)
  @Auth({ scopes: ['delegations:write'] })
  @Audited('delegation.revoked', { targetType: 'delegation' })
  @ApiOperation({
    summary: 'Revoke a delegation and, in the same transaction, every delegation below it',
    description:
      'The delegator side (a delegator of the chain or its ancestors) and the delegate side (the delegate or its ancestors) may revoke; a token carrying act only its own delegation or one below it. Tokens and refresh families minted from any revoked delegation die with it. Answers the ids this request revoked, top-down. Audited as delegation.revoked (details.revoked_delegation_ids), plus one delegation.revoked event per descendant it revoked (details.cause = parent_delegation_revoked).',
  })
  @ApiOkResponse({ type: RevokeDelegationResponse })
  async revoke(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
  ): Promise<RevokeDelegationResponse> {
    const { ids, delegatorAgentId, delegateAgentId } = await this.delegations.revoke(principal, id, {
      ip: this.clientIp.resolve(req),
      requestId: requestIdOf(req),
    });
    annotateAudit(req, {
      details: {
        revoked_count: ids.length,
        cascaded_count: Math.max(0, ids.length - 1),
        revoked_delegation_ids: ids,
        delegator_agent_id: delegatorAgentId,
        delegate_agent_id: delegateAgentId,
      },
    });
    return { revoked_delegation_ids: ids };
  }
}
