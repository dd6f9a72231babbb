import { Body, Controller, Get, Post, Query, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Audited, annotateAudit } from '@agentauth/audit';
import { Auth, CurrentPrincipal, type Principal } from '@agentauth/core';
import { CreateScopeDto } from './dto/create-scope.dto';
import { ListScopesQuery } from './dto/list-scopes.query';
import { ScopePageResponse, ScopeResponse, scopeView } from './dto/scope.response';
import { ScopeRegistry } from './scope-registry.service';

@ApiTags('scopes')
@Controller('scopes')
export class ScopesController {
  constructor(private readonly registry: ScopeRegistry) {}

  @Post()
  @Auth({ scopes: ['scopes:write'] })
  @Audited('scope.created', { targetType: 'scope' })
  @ApiOperation({
    summary: "Register a custom scope for the caller's tree",
    description:
      "Unique per tree (409 `scope_exists`). The tree's root holds every scope registered in its tree from now on " +
      '(its allowed_scopes and its full keys gain it); everyone else gets it from an ancestor as usual.',
  })
  @ApiCreatedResponse({ type: ScopeResponse })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateScopeDto,
    @Req() req: Request,
  ): Promise<ScopeResponse> {
    annotateAudit(req, { details: { name: dto.name } });
    return scopeView(await this.registry.register(principal, dto));
  }

  @Get()
  @Auth({ scopes: ['scopes:read'] })
  @ApiOperation({ summary: "List the built-in scopes and the caller's tree's custom scopes" })
  @ApiOkResponse({ type: ScopePageResponse })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListScopesQuery,
  ): Promise<ScopePageResponse> {
    return this.registry.list(principal, query);
  }
}
