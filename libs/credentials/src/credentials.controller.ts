import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { Audited, annotateAudit } from '@agentauth/audit';
import { Auth, CurrentPrincipal, type Principal, UuidParamPipe } from '@agentauth/core';
import type { Credential } from './credential.entity';
import { CredentialsService } from './credentials.service';
import { CreateCredentialDto } from './dto/create-credential.dto';
import {
  CredentialPageResponse,
  CredentialResponse,
  credentialView,
  IssuedCredentialResponse,
  issuedCredentialView,
  RotatedCredentialResponse,
} from './dto/credential.response';
import { ListCredentialsQuery } from './dto/list-credentials.query';
import { RotateCredentialDto } from './dto/rotate-credential.dto';

/** Audit details naming a public key (nothing secret: its type, kid and thumbprint); none for an API key. */
function publicKeyDetails(credential: Credential): Record<string, unknown> {
  return credential.type === 'public_key'
    ? { type: 'public_key', kid: credential.kid, thumbprint: credential.thumbprint, alg: credential.alg }
    : { type: 'api_key' };
}

@ApiTags('credentials')
@Controller('credentials')
export class CredentialsController {
  constructor(private readonly credentials: CredentialsService) {}

  @Post()
  @Auth({ scopes: ['credentials:write'] })
  @Audited('credential.created', { targetType: 'credential' })
  @ApiOperation({
    summary:
      'Issue an API key (the raw value is returned once) or register a public key (type public_key, jwk)',
  })
  @ApiCreatedResponse({ type: IssuedCredentialResponse })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() dto: CreateCredentialDto,
    @Req() req: Request,
  ): Promise<IssuedCredentialResponse> {
    const { credential, apiKey } = await this.credentials.create(principal, dto);
    annotateAudit(req, {
      details: { agent_id: credential.agentId, scopes: credential.scopes, ...publicKeyDetails(credential) },
    });
    return issuedCredentialView(credential, apiKey);
  }

  @Get()
  @Auth({ scopes: ['credentials:read'] })
  @ApiOperation({ summary: "List the credentials of the caller's subtree (masked)" })
  @ApiOkResponse({ type: CredentialPageResponse })
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query() query: ListCredentialsQuery,
  ): Promise<CredentialPageResponse> {
    return this.credentials.list(principal, query);
  }

  @Post(':id/rotate')
  @HttpCode(200)
  @Auth({ scopes: ['credentials:write'] })
  @Audited('credential.rotated', { targetType: 'credential' })
  @ApiOperation({
    summary:
      'Rotate a credential: a new API key (or the body jwk for a public key) now, the old one until its grace period ends',
  })
  @ApiOkResponse({ type: RotatedCredentialResponse })
  async rotate(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: RotateCredentialDto,
    @Req() req: Request,
  ): Promise<RotatedCredentialResponse> {
    const { credential, apiKey, previous } = await this.credentials.rotate(principal, id, dto);
    annotateAudit(req, {
      details: {
        agent_id: credential.agentId,
        new_credential_id: credential.id,
        grace_until: previous.graceUntil?.toISOString() ?? null,
        ...publicKeyDetails(credential),
      },
    });
    return { ...issuedCredentialView(credential, apiKey), previous: credentialView(previous) };
  }

  @Delete(':id')
  @HttpCode(200)
  @Auth({ scopes: ['credentials:write'] })
  @Audited('credential.revoked', { targetType: 'credential' })
  @ApiOperation({ summary: 'Revoke a credential (stops at once; idempotent)' })
  @ApiOkResponse({ type: CredentialResponse })
  async revoke(
    @CurrentPrincipal() principal: Principal,
    @Param('id', UuidParamPipe) id: string,
    @Req() req: Request,
  ): Promise<CredentialResponse> {
    const credential = await this.credentials.revoke(principal, id);
    // The same shape as a key revoked by a deactivation cascade (which adds its `cause`).
    annotateAudit(req, { details: { agent_id: credential.agentId } });
    return credentialView(credential);
  }
}
