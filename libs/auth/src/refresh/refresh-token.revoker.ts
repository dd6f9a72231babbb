import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { inCallersTree } from '@agentauth/agents';
import { AuditService } from '@agentauth/audit';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import { type RevocationOutcome, TokenRevocationService } from '../revocation/token-revocation.service';
import { looksLikeRefreshToken } from './refresh-token.format';
import { type RequestOrigin, RefreshTokensService } from './refresh-tokens.service';

/**
 * Refresh tokens at the RFC 7009 endpoint: revoking one revokes its whole family (CONTRACT §4) — every refresh
 * token in it and every access token minted from it — when the family's client or subject is the caller or
 * in the caller's subtree. Anything else is a silent 200.
 */
@Injectable()
export class RefreshTokenRevoker implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly revocation: TokenRevocationService,
    private readonly refresh: RefreshTokensService,
    private readonly audit: AuditService,
  ) {}

  onModuleInit(): void {
    this.revocation.register({
      recognizes: looksLikeRefreshToken,
      revoke: (token, caller, context) => this.revoke(token, caller, context),
    });
  }

  private async revoke(
    raw: string,
    caller: AuthenticatedClient,
    context: RequestOrigin,
  ): Promise<RevocationOutcome> {
    const found = await this.refresh.find(raw);
    if (!found || !inCallersTree(found.family.rootAgentId, caller)) return 'ignored';
    const { family } = found;
    if (!(await this.revocation.mayRevoke(caller, [family.clientAgentId, family.subjectAgentId]))) {
      return 'ignored';
    }
    const revoked = await this.dataSource.transaction((m) =>
      this.refresh.revokeFamilies(m, { familyIds: [family.id] }, 'revoked_by_client'),
    );
    if (revoked.length === 0) return 'ignored';
    await this.audit.record({
      eventType: 'token.revoked',
      outcome: 'success',
      actorAgentId: caller.agentId,
      rootAgentId: caller.rootAgentId,
      targetType: 'refresh_family',
      targetId: family.id,
      ip: context.ip,
      requestId: context.requestId ?? null,
      details: { token_type: 'refresh_token', family_id: family.id, client_id: family.clientAgentId },
    });
    return 'revoked';
  }
}
