import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { Audited, annotateAudit } from '@agentauth/audit';
import { Auth, CurrentPrincipal, type Principal, UuidParamPipe } from '@agentauth/core';
import { EvaluatePolicyDto } from './dto/evaluate-policy.dto';
import { ListPoliciesQuery } from './dto/list-policies.query';
import { CreatePolicyDto, UpdatePolicyDto } from './dto/policy-body.dto';
import {
  PolicyEvaluationResponse,
  PolicyPageResponse,
  PolicyResponse,
  policyView,
} from './dto/policy.response';
import { PoliciesService } from './policies.service';

@ApiTags('policies')
@Controller('policies')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Post()
  @Auth({ scopes: ['policies:write'] })
  @Audited('policy.created', { targetType: 'policy' })
  @ApiOperation({
    summary: "Create a policy for the caller's subtree",
    description:
      "Owned by the caller's authority (`sub`): it governs at most that subtree (`*` = that subtree). Every agent it names must be in it. A token carrying act gets 403 act_not_allowed.",
  })
  @ApiCreatedResponse({ type: PolicyResponse })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreatePolicyDto,
    @Req() req: Request,
  ): Promise<PolicyResponse> {
    const policy = await this.policies.create(principal, dto);
    annotateAudit(req, { details: { effect: policy.effect, enabled: policy.enabled } });
    return policyView(policy);
  }

  @Get()
  @Auth({ scopes: ['policies:read'] })
  @ApiOperation({ summary: "List the policies owned by the caller's subtree (itself included)" })
  @ApiOkResponse({ type: PolicyPageResponse })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListPoliciesQuery,
  ): Promise<PolicyPageResponse> {
    return this.policies.list(principal, query);
  }

  @Post('evaluate')
  @HttpCode(200)
  @Auth({ scopes: ['policies:read'] })
  @ApiOperation({
    summary: "Decide an action for an agent of the caller's subtree (the evaluator issuance uses)",
    description:
      'Deny-override: inactive agent → agent_inactive; matching deny → explicit_deny; action not covered by allowed_scopes → default_deny; matching allow → explicit_allow; else scope_grant.',
  })
  @ApiOkResponse({ type: PolicyEvaluationResponse })
  async evaluate(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: EvaluatePolicyDto,
  ): Promise<PolicyEvaluationResponse> {
    return this.policies.evaluate(principal, dto);
  }

  @Get(':id')
  @Auth({ scopes: ['policies:read'] })
  @ApiOperation({ summary: "Get a policy owned by the caller's subtree" })
  @ApiOkResponse({ type: PolicyResponse })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<PolicyResponse> {
    return policyView(await this.policies.findVisible(principal, id));
  }

  @Patch(':id')
  @Auth({ scopes: ['policies:write'] })
  @Audited('policy.updated', { targetType: 'policy' })
  @ApiOperation({
    summary: 'Update a policy (its owner or an ancestor of the owner)',
    description:
      'Each given field replaces the stored one; `conditions` as a whole. A token carrying act gets 403 act_not_allowed.',
  })
  @ApiOkResponse({ type: PolicyResponse })
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: UpdatePolicyDto,
    @Req() req: Request,
  ): Promise<PolicyResponse> {
    const result = await this.policies.update(principal, id, dto);
    annotateAudit(req, { details: { fields: result.changedFields, version: result.policy.version } });
    return policyView(result.policy);
  }

  @Delete(':id')
  @HttpCode(204)
  @Auth({ scopes: ['policies:write'] })
  @Audited('policy.deleted', { targetType: 'policy' })
  @ApiOperation({
    summary: 'Delete a policy (its owner or an ancestor of the owner)',
    description: 'A token carrying act gets 403 act_not_allowed.',
  })
  @ApiNoContentResponse()
  async delete(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
  ): Promise<void> {
    const policy = await this.policies.delete(principal, id);
    annotateAudit(req, { details: { name: policy.name, effect: policy.effect } });
  }
}
