import { Injectable } from '@nestjs/common';
import { inCallersTree } from '@agentauth/agents';
import { DelegationsService } from '@agentauth/delegations';
import { RevocationStateUnavailableError } from '@agentauth/revocation';
import { formatScopeParam } from '@agentauth/scopes';
import { looksLikeRefreshToken } from '../refresh/refresh-token.format';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';
import { type AccessTokenClaims, tokenTypeOf } from '../tokens/access-token-claims';
import { AccessTokenValidator } from '../tokens/access-token.validator';
import { TokenRejectedError } from '../tokens/token-rejected.error';

export const INTROSPECT_SCOPE = 'tokens:introspect';

/** RFC 7662 §2.2 response: `{active: false}` and nothing else, or the token's claims. */
export type IntrospectionResponse =
  { active: false } | ({ active: true; token_type: string } & Record<string, unknown>);

const INACTIVE: IntrospectionResponse = { active: false };

/**
 * An access token's validation, started while the caller is still being authenticated (`begin`): settled,
 * never rejecting, so a caller refused meanwhile leaves no unhandled rejection behind.
 */
export type StartedValidation = Promise<{ claims: AccessTokenClaims } | { error: unknown }>;

/** Who asked: the root tree they belong to is the only one whose tokens they may see. */
export interface IntrospectionCaller {
  rootAgentId: string;
}

/**
 * `POST /auth/token/introspect` (RFC 7662, CONTRACT §4). The caller authenticates with client credentials
 * (its agent's `allowed_scopes` must include `tokens:introspect`) or a Bearer token carrying that scope.
 * Unknown, malformed, expired, revoked or another tree's tokens — and any doubt (revocation state
 * unreadable) — are `{"active": false}`; an active token answers its claims plus `active` and `token_type`.
 */
@Injectable()
export class IntrospectionService {
  constructor(
    private readonly validator: AccessTokenValidator,
    private readonly refresh: RefreshTokensService,
    private readonly delegations: DelegationsService,
  ) {}

  /**
   * Starts validating an access token before its caller is authenticated, so that the two revocation reads
   * (the caller's key, the token) go to Redis in one pipelined write instead of one after the other. The
   * result is only read by `introspect`, i.e. only for an authenticated caller; a refused caller's request
   * answers its error without waiting for it. Undefined for anything that is not an access token.
   */
  begin(token: string | undefined): StartedValidation | undefined {
    if (typeof token !== 'string' || token === '' || looksLikeRefreshToken(token)) return undefined;
    return this.validator.validate(token).then(
      (claims) => ({ claims }),
      (error: unknown) => ({ error }),
    );
  }

  /**
   * The answer for `token` to `caller` (authenticated by the endpoint: `IntrospectionCallers`), from the
   * validation `begin` started for the same token, if any.
   */
  async introspect(
    token: string,
    caller: IntrospectionCaller,
    started?: StartedValidation,
  ): Promise<IntrospectionResponse> {
    if (looksLikeRefreshToken(token)) return this.introspectRefreshToken(token, caller);
    try {
      const claims = await this.validated(token, started);
      if (!inCallersTree(claims.agent.root_agent_id, caller)) return INACTIVE;
      return { ...claims, active: true, token_type: tokenTypeOf(claims) };
    } catch (error) {
      if (error instanceof TokenRejectedError || error instanceof RevocationStateUnavailableError) {
        return INACTIVE;
      }
      throw error;
    }
  }

  private async validated(token: string, started: StartedValidation | undefined): Promise<AccessTokenClaims> {
    if (!started) return this.validator.validate(token);
    const result = await started;
    if ('error' in result) throw result.error;
    return result.claims;
  }

  /**
   * A refresh token is active while it is unused, its family active and unexpired (RFC 7662 §2.2) and, for
   * a family minted from a delegation, while the delegation chain is usable (what a refresh would check).
   */
  private async introspectRefreshToken(
    raw: string,
    caller: IntrospectionCaller,
  ): Promise<IntrospectionResponse> {
    const found = await this.refresh.find(raw);
    if (!found) return INACTIVE;
    const { token, family } = found;
    if (this.refresh.activity(found) !== 'active' || !inCallersTree(family.rootAgentId, caller)) {
      return INACTIVE;
    }
    if (family.delegationId && !(await this.delegations.isChainValid(family.delegationId))) return INACTIVE;
    return {
      active: true,
      token_type: 'refresh_token',
      client_id: family.clientAgentId,
      sub: family.subjectAgentId,
      scope: formatScopeParam(family.scopes),
      aud: family.audience,
      iat: Math.floor(token.createdAt.getTime() / 1000),
      exp: Math.floor(family.expiresAt.getTime() / 1000),
      fam: family.id,
      ...(family.delegationId ? { delegation_id: family.delegationId } : {}),
      ...(family.act ? { act: family.act } : {}),
      ...(family.dpopJkt ? { cnf: { jkt: family.dpopJkt } } : {}),
    };
  }
}
