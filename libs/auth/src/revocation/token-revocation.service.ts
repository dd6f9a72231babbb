import { Injectable } from '@nestjs/common';
import { AgentsService, inCallersTree } from '@agentauth/agents';
import { AuditService } from '@agentauth/audit';
import { RevocationService } from '@agentauth/revocation';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import type { RequestOrigin } from '../refresh/refresh-tokens.service';
import type { AccessTokenClaims } from '../tokens/access-token-claims';
import { AccessTokenValidator } from '../tokens/access-token.validator';
import { TokenRejectedError } from '../tokens/token-rejected.error';

/** What a revocation request did, for the controller's tests and the audit trail. */
export type RevocationOutcome = 'revoked' | 'ignored';

/** Handles one kind of token at the revocation endpoint (access tokens here; refresh tokens plug in). */
export interface TokenRevoker {
  /** True when `token` has this revoker's shape (an access token is a JWS; a refresh token has a prefix). */
  recognizes(token: string): boolean;
  revoke(token: string, caller: AuthenticatedClient, context: RequestOrigin): Promise<RevocationOutcome>;
}

const JWS_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * `POST /auth/token/revoke` (RFC 7009, CONTRACT §4). The caller authenticates as a client. It may revoke the
 * tokens issued to itself or to an agent of its subtree (the token's `client_id` or `sub`); anything else —
 * unknown, malformed, expired, another tree's — is answered 200 like a success and changes nothing.
 * `token_type_hint` is only a hint: every supported kind is tried.
 */
@Injectable()
export class TokenRevocationService {
  private readonly revokers: TokenRevoker[] = [];

  constructor(
    private readonly validator: AccessTokenValidator,
    private readonly revocation: RevocationService,
    private readonly agents: AgentsService,
    private readonly audit: AuditService,
  ) {
    this.revokers.push({
      recognizes: (token) => JWS_SHAPE.test(token),
      revoke: (token, caller, context) => this.revokeAccessToken(token, caller, context),
    });
  }

  /** Adds a kind of token (refresh tokens). */
  register(revoker: TokenRevoker): void {
    this.revokers.push(revoker);
  }

  /** Revokes `token` for `caller` (the client the endpoint authenticated). */
  async revoke(
    token: string,
    caller: AuthenticatedClient,
    context: RequestOrigin,
  ): Promise<RevocationOutcome> {
    const revoker = this.revokers.find((r) => r.recognizes(token));
    if (!revoker) return 'ignored';
    return revoker.revoke(token, caller, context);
  }

  /**
   * May `caller` revoke a token naming these agents? Its own, or one whose actor or subject is in the
   * caller's subtree (one indexed query each; the tree boundary makes another tree's tokens untouchable).
   */
  async mayRevoke(caller: AuthenticatedClient, agentIds: string[]): Promise<boolean> {
    for (const agentId of new Set(agentIds)) {
      if (agentId === caller.agentId) return true;
      if (await this.agents.isInSubtree(caller.agentId, agentId)) return true;
    }
    return false;
  }

  private async revokeAccessToken(
    token: string,
    caller: AuthenticatedClient,
    context: RequestOrigin,
  ): Promise<RevocationOutcome> {
    let claims: AccessTokenClaims;
    try {
      // Signature and claims only: an already revoked token may be revoked again (idempotent), an expired
      // one needs nothing.
      claims = await this.validator.verifySignedClaims(token);
    } catch (error) {
      if (error instanceof TokenRejectedError) return 'ignored';
      throw error;
    }
    if (!inCallersTree(claims.agent.root_agent_id, caller)) return 'ignored';
    if (!(await this.mayRevoke(caller, [claims.client_id, claims.sub]))) return 'ignored';
    await this.revocation.revoke([{ kind: 'jti', id: claims.jti, expiresAt: new Date(claims.exp * 1000) }]);
    await this.audit.record({
      eventType: 'token.revoked',
      outcome: 'success',
      actorAgentId: caller.agentId,
      rootAgentId: caller.rootAgentId,
      targetType: 'token',
      targetId: claims.jti,
      ip: context.ip,
      requestId: context.requestId ?? null,
      details: { token_type: 'access_token', jti: claims.jti, client_id: claims.client_id, sub: claims.sub },
    });
    return 'revoked';
  }
}
