import { Injectable } from '@nestjs/common';
import { AuditService } from '@agentauth/audit';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import type { OAuthError } from '../oauth/oauth-errors';
import type { AccessTokenClaims } from '../tokens/access-token-claims';
import type { TokenRequestContext } from './grant-handler';

/**
 * The token endpoint's audit events (docs/tokens.md, "Audit"): `token.issued` (metrics count it by
 * `details.grant_type`) and `token.issue_failed`. Recorded after the issuance's own writes committed; the
 * response waits for the event. Never the token itself: its `jti` identifies it.
 */
@Injectable()
export class TokenAudit {
  constructor(private readonly audit: AuditService) {}

  async issued(
    context: TokenRequestContext,
    grantType: string,
    claims: AccessTokenClaims,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await this.audit.record({
      eventType: 'token.issued',
      outcome: 'success',
      actorAgentId: claims.client_id,
      onBehalfOf: claims.sub !== claims.client_id ? claims.sub : null,
      rootAgentId: claims.agent.root_agent_id,
      targetType: 'token',
      targetId: claims.jti,
      ip: context.ip,
      requestId: context.requestId ?? null,
      details: {
        grant_type: grantType,
        scope: claims.scope,
        aud: claims.aud,
        jti: claims.jti,
        exp: claims.exp,
        ...extra,
      },
    });
  }

  async failed(
    context: TokenRequestContext,
    grantType: string,
    client: AuthenticatedClient,
    error: OAuthError,
  ): Promise<void> {
    await this.audit.record({
      eventType: 'token.issue_failed',
      outcome: error.status === 403 ? 'denied' : 'failure',
      actorAgentId: client.agentId,
      rootAgentId: client.rootAgentId,
      targetType: 'token',
      ip: context.ip,
      requestId: context.requestId ?? null,
      details: {
        grant_type: grantType,
        error: error.error,
        ...(error.internalReason ? { cause: error.internalReason } : {}),
        description: error.description,
      },
    });
  }
}
