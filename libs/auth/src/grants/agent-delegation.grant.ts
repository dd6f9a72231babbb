import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { AuditService } from '@agentauth/audit';
import { Clock } from '@agentauth/core';
import {
  DelegationsService,
  InvalidDelegationError,
  type ResolvedDelegationGrant,
} from '@agentauth/delegations';
import { parseScopeRequest } from '@agentauth/scopes';
import { InvalidGrantError } from '../vocabulary/oauth-errors';
import { requireParam } from '../vocabulary/oauth-params';
import { DpopBinding } from './dpop-binding';
import { actSubjects } from '../tokens/access-token-claims';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';
import { AccessTokenIssuer } from '../tokens/access-token.issuer';
import { DelegatedAuthority, INVALID_DELEGATION_DESCRIPTION } from './delegated-authority';
import type { GrantHandler, GrantResult, TokenRequestContext } from './grant-handler';
import { ScopeResolver } from './scope-resolution';
import { targetCeilings, targetTokenFields, TokenTargets } from './token-target';

export const AGENT_DELEGATION = 'urn:agentauth:grant-type:agent_delegation';
/**
 * The short alias CONTRACT §4 also accepts; also the `grant_type` of its `token.issued` events (whichever
 * spelling the client used), which the metrics and `/stats` count.
 */
export const AGENT_DELEGATION_ALIAS = 'agent_delegation';

/**
 * `grant_type=urn:agentauth:grant-type:agent_delegation` (also `agent_delegation`; CONTRACT §4,
 * docs/delegations.md "What the agent_delegation grant does"): the delegate, authenticated as a client like
 * for every grant, presents its `delegation_token` and gets an access token acting on the chain's authority:
 * - `DelegationsService.resolveForGrant` verifies the token and judges the whole chain now (every hop active
 *   and unexpired, every party active, the client is the delegate); every refusal is `invalid_grant` with one
 *   description, the reason going to the `token.issue_failed` audit event only;
 * - `sub` = the chain's original delegator, `client_id` = the delegate, `act` = the delegates nested (the
 *   current actor outermost, RFC 8693 §4.1), `delegation_id` = the presented hop;
 * - scope ⊆ the chain's effective scopes (absent: all of them minus policy denials; present: each covered,
 *   else `invalid_scope`), policies evaluated for `sub` and for the actor with `delegation_depth` = the
 *   chain's depth (`DelegatedAuthority`). The delegate's key scopes are NOT a ceiling: the key proves who
 *   the delegate is; the authority comes from the delegation (CONTRACT §4 "scopes ⊆ delegation scopes";
 *   docs/tokens.md);
 * - `exp` ≤ the chain's expiry (earliest hop and party expiry), the configured lifetime, the client's key
 *   and agent chain;
 * - `aud` from `resource`/`audience` (`TokenTargets`; default: the management API), a resource server's
 *   scopes one more ceiling;
 * - always a refresh token: a family bound to the delegate, carrying `delegation_id` and `act`, ending at
 *   the chain's expiry; every refresh re-checks the chain (RefreshTokenGrant) and the delegation revocation
 *   cascade revokes the family (TokenCascades).
 * Audited: `delegation.used` and `token.issued` (grant_type `agent_delegation`: metrics count by it).
 */
@Injectable()
export class AgentDelegationGrant implements GrantHandler {
  readonly grantTypes = [AGENT_DELEGATION, AGENT_DELEGATION_ALIAS];
  readonly auditedAs = AGENT_DELEGATION_ALIAS;

  constructor(
    private readonly delegations: DelegationsService,
    private readonly authority: DelegatedAuthority,
    private readonly scopes: ScopeResolver,
    private readonly issuer: AccessTokenIssuer,
    private readonly refresh: RefreshTokensService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
    private readonly targets: TokenTargets,
    private readonly dpop: DpopBinding,
  ) {
    this.logger.setContext('AgentDelegationGrant');
  }

  async handle(context: TokenRequestContext): Promise<GrantResult> {
    const { params, client } = context;
    const delegationToken = requireParam(params, 'delegation_token');
    const resolved = await this.resolve(delegationToken, client.agentId);

    const request = parseScopeRequest(params.scope);
    const target = await this.targets.resolve(params, client.rootAgentId);
    const { jkt } = await this.dpop.bind(context.dpop, {
      clientId: client.agentId,
      clientRequiresDpop: client.requiresDpop,
      subjectAgentId: resolved.originalDelegatorId,
      actorIds: actSubjects(resolved.act),
      target,
    });
    const { scopes, dropped } = await this.scopes.resolve({
      requested: request.scopes,
      rootAgentId: client.rootAgentId,
      ceilings: [resolved.effectiveScopes, ...targetCeilings(target)],
      agents: await this.authority.policyAgents(
        resolved.originalDelegatorId,
        client,
        resolved.effectiveScopes,
        'agent_inactive',
      ),
      resource: target.audience,
      concrete: target.kind === 'resource_server',
      ip: context.ip,
      requestId: context.requestId,
      time: this.clock.now(),
      delegationDepth: resolved.depth,
    });

    const family = await this.refresh.startFamily({
      client,
      subjectAgentId: resolved.originalDelegatorId,
      scopes,
      ...targetTokenFields(target),
      delegationId: resolved.delegation.id,
      act: resolved.act,
      notAfter: resolved.expiresAt,
      dpopJkt: jkt,
    });
    const token = await this.issuer.issue({
      client,
      subjectAgentId: resolved.originalDelegatorId,
      scopes,
      ...targetTokenFields(target),
      act: resolved.act,
      delegationId: resolved.delegation.id,
      familyId: family.familyId,
      notAfterMs: [resolved.expiresAt.getTime(), family.expiresAt.getTime()],
      jkt,
    });

    await this.audit.record({
      eventType: 'delegation.used',
      outcome: 'success',
      actorAgentId: client.agentId,
      onBehalfOf: resolved.originalDelegatorId,
      rootAgentId: client.rootAgentId,
      targetType: 'delegation',
      targetId: resolved.delegation.id,
      ip: context.ip,
      requestId: context.requestId ?? null,
      details: {
        delegation_ids: resolved.delegationIds,
        original_delegator_id: resolved.originalDelegatorId,
        depth: resolved.depth,
        scope: token.claims.scope,
        jti: token.claims.jti,
        family_id: family.familyId,
      },
    });
    return {
      token,
      refreshToken: family.refreshToken,
      auditDetails: {
        delegation_id: resolved.delegation.id,
        family_id: family.familyId,
        act_depth: resolved.depth,
        ...(dropped.length > 0 ? { policy_dropped: dropped.map((d) => d.scope) } : {}),
      },
    };
  }

  /** `resolveForGrant`, every refusal mapped to the same `invalid_grant` (the reason to audit/logs only). */
  private async resolve(delegationToken: string, clientId: string): Promise<ResolvedDelegationGrant> {
    try {
      return await this.delegations.resolveForGrant(delegationToken, clientId);
    } catch (error) {
      if (error instanceof InvalidDelegationError) {
        this.logger.info({ reason: error.reason, client_id: clientId }, 'delegation token refused');
        throw new InvalidGrantError(INVALID_DELEGATION_DESCRIPTION, error.reason);
      }
      throw error;
    }
  }
}
