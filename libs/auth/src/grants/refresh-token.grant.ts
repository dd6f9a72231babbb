import { Injectable } from '@nestjs/common';
import { AgentsService } from '@agentauth/agents';
import { Clock } from '@agentauth/core';
import { DelegationsService } from '@agentauth/delegations';
import type { EvaluationAgent } from '@agentauth/policies';
import { parseScopeRequest } from '@agentauth/scopes';
import { evaluationAgentOf } from '../clients/authenticated-client';
import { InvalidGrantError } from '../vocabulary/oauth-errors';
import { DpopBinding } from './dpop-binding';
import { actSubjects } from '../tokens/access-token-claims';
import { requireParam } from '../vocabulary/oauth-params';
import type { RefreshFamily } from '../refresh/refresh-tokens.repository';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import { DelegatedAuthority } from './delegated-authority';
import { AccessTokenIssuer } from '../tokens/access-token.issuer';
import type { GrantHandler, GrantResult, TokenRequestContext } from './grant-handler';
import { ScopeResolver } from './scope-resolution';
import { targetCeilings, targetTokenFields, TokenTargets } from './token-target';

export const REFRESH_TOKEN = 'refresh_token';

/**
 * `grant_type=refresh_token` (RFC 6749 §6, CONTRACT §4). Client authentication is required and the token
 * must belong to the authenticated client. Everything a new grant checks is checked again: the client's key
 * and agent chain (client authentication), the subject agent when it is not the client, the scopes — within
 * the family's original grant and the client's current ceiling, through the issuance policy — and the
 * target (the family's resource: `TokenTargets.ofFamily` — a request may repeat it, another is
 * `invalid_target`; a deleted resource server's family is dead; the server's scopes, as they are now, are
 * one more ceiling). Then the token is rotated (used once,
 * atomically) and a new access token and refresh token are issued; the access token carries `fam`.
 */
@Injectable()
export class RefreshTokenGrant implements GrantHandler {
  readonly grantTypes = [REFRESH_TOKEN];
  readonly auditedAs = REFRESH_TOKEN;
  /** A public client (CONTRACT §11) refreshes what the authorization_code grant issued it, by client_id. */
  readonly publicClients = true;

  constructor(
    private readonly refresh: RefreshTokensService,
    private readonly scopes: ScopeResolver,
    private readonly issuer: AccessTokenIssuer,
    private readonly agents: AgentsService,
    private readonly delegations: DelegationsService,
    private readonly authority: DelegatedAuthority,
    private readonly targets: TokenTargets,
    private readonly clock: Clock,
    private readonly dpop: DpopBinding,
  ) {}

  async handle(context: TokenRequestContext): Promise<GrantResult> {
    const { params, client } = context;
    const origin = { ip: context.ip, requestId: context.requestId };
    const raw = requireParam(params, 'refresh_token');
    const { family, hash } = await this.refresh.usable(raw, client, origin);
    const target = await this.targets.ofFamily(family, params);
    // A bound family needs a proof by its key; any family needs one when a party requires DPoP.
    const { jkt } = await this.dpop.bind(
      context.dpop,
      {
        clientId: client.agentId,
        clientRequiresDpop: client.requiresDpop,
        subjectAgentId: family.subjectAgentId,
        actorIds: actSubjects(family.act ?? undefined),
        target,
      },
      family.dpopJkt ? { jkt: family.dpopJkt, what: 'refresh token' } : undefined,
    );

    if (family.subjectAgentId !== client.agentId) {
      const subject = await this.agents.getActivity(family.subjectAgentId);
      if (!subject?.active) {
        throw new InvalidGrantError('The refresh token is invalid, expired or revoked', 'subject_inactive');
      }
    }
    const grant = family.delegationId
      ? await this.delegatedGrant(family, family.delegationId, client)
      : { ceiling: client.scopes, agents: [evaluationAgentOf(client)], depth: 0, notAfterMs: [] };
    const request = parseScopeRequest(params.scope);
    const { scopes } = await this.scopes.resolve({
      requested: request.scopes,
      rootAgentId: client.rootAgentId,
      ceilings: [family.scopes, grant.ceiling, ...targetCeilings(target)],
      agents: grant.agents,
      resource: target.audience,
      concrete: target.kind === 'resource_server',
      ip: context.ip,
      requestId: context.requestId,
      time: this.clock.now(),
      delegationDepth: grant.depth,
    });

    const { refreshToken, minted: token } = await this.refresh.rotate(
      hash,
      family,
      client,
      origin,
      () =>
        this.issuer.issue({
          client,
          subjectAgentId: family.subjectAgentId,
          scopes,
          ...targetTokenFields(target),
          familyId: family.id,
          delegationId: family.delegationId ?? undefined,
          act: family.act ?? undefined,
          notAfterMs: [family.expiresAt.getTime(), ...grant.notAfterMs],
          jkt,
        }),
      jkt,
    );
    return {
      token,
      refreshToken,
      auditDetails: {
        family_id: family.id,
        // A delegated family's tokens act on the delegation's authority: the trail names it, as at the grant.
        ...(family.delegationId ? { delegation_id: family.delegationId } : {}),
      },
    };
  }

  /**
   * A family minted by the `agent_delegation` grant: its delegation chain is judged again now, as a new grant
   * would (every hop active and unexpired, every party active; CONTRACT §4) — else `invalid_grant`. The
   * ceiling is the chain's effective scopes now (not the delegate's key scopes, as at the grant), the
   * policies are asked for the original delegator and the actor, and the new token ends with the chain.
   */
  private async delegatedGrant(
    family: RefreshFamily,
    delegationId: string,
    client: AuthenticatedClient,
  ): Promise<{ ceiling: string[]; agents: EvaluationAgent[]; depth: number; notAfterMs: number[] }> {
    const status = await this.delegations.chainStatus(delegationId);
    const last = status?.chain[status.chain.length - 1];
    if (!status || !last || !status.verdict.valid || last.delegateAgentId !== client.agentId) {
      throw new InvalidGrantError(
        'The refresh token is invalid, expired or revoked',
        `delegation_${status?.verdict.reason ?? 'unknown'}`,
      );
    }
    return {
      ceiling: status.verdict.effectiveScopes,
      agents: await this.authority.policyAgents(
        family.subjectAgentId,
        client,
        status.verdict.effectiveScopes,
        'subject_inactive',
      ),
      depth: last.depth,
      notAfterMs: [status.verdict.expiresAt.getTime()],
    };
  }
}
