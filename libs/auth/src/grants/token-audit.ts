import { Injectable } from '@nestjs/common';
import { AuditService } from '@agentauth/audit';
import { isUuid } from '@agentauth/core';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import type { OAuthError } from '../vocabulary/oauth-errors';
import type { AccessTokenClaims } from '../tokens/access-token-claims';
import type { TokenRequestContext } from './grant-handler';

/**
 * The token endpoint's audit events, written by its pipeline only (`protocol/token-endpoint.ts`) (docs/tokens.md, "Audit"): `token.issued` (metrics count it by
 * `details.grant_type`) and `token.issue_failed` (after client authentication, or before it for a request
 * refused on its own: malformed body, missing or unsupported `grant_type`). Recorded after the issuance's own writes committed; the
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
        ...(context.client.method ? { client_auth_method: context.client.method } : {}),
        ...extra,
      },
    });
  }

  /**
   * A request refused before its client was authenticated (malformed body, missing or unsupported
   * `grant_type`): nobody is authenticated, so there is neither actor nor target agent. The presented
   * client_id (`PresentedClient.claimedClientId`: Basic, body or assertion `iss`, normalized), when it is an agent id (a UUID), is only a claim: `details.claimed_client_id`
   * (an attacker may type any victim's id — CONTRACT §7). Of the rest of the request only the `grant_type`
   * it named is kept (never a secret).
   */
  async refusedBeforeAuthentication(
    origin: { ip: string; requestId?: string },
    clientId: string | undefined,
    params: Record<string, string>,
    error: OAuthError,
  ): Promise<void> {
    const named = clientId !== undefined && isUuid(clientId);
    await this.audit.record({
      eventType: 'token.issue_failed',
      outcome: 'failure',
      targetType: 'token',
      targetId: null,
      ip: origin.ip,
      requestId: origin.requestId ?? null,
      details: {
        ...(named ? { claimed_client_id: clientId } : {}),
        ...(params.grant_type ? { grant_type: params.grant_type.slice(0, 100) } : {}),
        error: error.error,
        cause: 'before_client_authentication',
        description: error.description,
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
