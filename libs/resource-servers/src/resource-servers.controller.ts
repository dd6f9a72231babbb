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
import { CreateResourceServerDto, UpdateResourceServerDto } from './dto/resource-server-body.dto';
import {
  ListResourceServersQuery,
  ResourceServerPageResponse,
  ResourceServerResponse,
  resourceServerView,
} from './dto/resource-server.response';
import { ResourceServersService } from './resource-servers.service';

@ApiTags('resource-servers')
@Controller('resource-servers')
export class ResourceServersController {
  constructor(private readonly servers: ResourceServersService) {}

  @Post()
  @Auth({ scopes: ['resource-servers:write'] })
  @Audited('resource_server.created', { targetType: 'resource_server' })
  @ApiOperation({
    summary: 'Register a resource server (an API that accepts tokens for its identifier)',
    description:
      "Owned by the caller's authority (`sub`). 409 `identifier_unavailable` when any tree holds the identifier. Tokens for it: `resource=<identifier>` at the token endpoint.",
  })
  @ApiCreatedResponse({ type: ResourceServerResponse })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateResourceServerDto,
    @Req() req: Request,
  ): Promise<ResourceServerResponse> {
    const server = await this.servers.create(principal, dto);
    annotateAudit(req, {
      targetId: server.id,
      details: { identifier: server.identifier, scopes: server.scopes },
    });
    return resourceServerView(server);
  }

  @Get()
  @Auth({ scopes: ['resource-servers:read'] })
  @ApiOperation({ summary: "List the resource servers owned in the caller's subtree" })
  @ApiOkResponse({ type: ResourceServerPageResponse })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListResourceServersQuery,
  ): Promise<ResourceServerPageResponse> {
    return this.servers.list(principal, query);
  }

  @Get(':id')
  @Auth({ scopes: ['resource-servers:read'] })
  @ApiOperation({ summary: "Get a resource server owned in the caller's subtree" })
  @ApiOkResponse({ type: ResourceServerResponse })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
  ): Promise<ResourceServerResponse> {
    return resourceServerView(await this.servers.findVisible(principal, id));
  }

  @Patch(':id')
  @Auth({ scopes: ['resource-servers:write'] })
  @Audited('resource_server.updated', { targetType: 'resource_server' })
  @ApiOperation({
    summary: 'Update a resource server (its owner or an ancestor of the owner)',
    description: 'Each given field replaces the stored one; the identifier cannot change.',
  })
  @ApiOkResponse({ type: ResourceServerResponse })
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: UpdateResourceServerDto,
    @Req() req: Request,
  ): Promise<ResourceServerResponse> {
    const result = await this.servers.update(principal, id, dto);
    annotateAudit(req, {
      details: { identifier: result.server.identifier, fields: result.changedFields },
    });
    return resourceServerView(result.server);
  }

  @Delete(':id')
  @HttpCode(204)
  @Auth({ scopes: ['resource-servers:write'] })
  @Audited('resource_server.deleted', { targetType: 'resource_server' })
  @ApiOperation({
    summary: 'Delete a resource server: its outstanding tokens and refresh families are revoked',
  })
  @ApiNoContentResponse()
  async delete(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
  ): Promise<void> {
    const server = await this.servers.delete(principal, id);
    annotateAudit(req, { details: { identifier: server.identifier } });
  }
}
