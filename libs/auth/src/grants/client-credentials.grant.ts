import { Injectable } from '@nestjs/common';
import { Clock } from '@agentauth/core';
import { parseScopeRequest } from '@agentauth/scopes';
import { evaluationAgentOf } from '../clients/authenticated-client';
import { DpopBinding } from './dpop-binding';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';
import { AccessTokenIssuer } from '../tokens/access-token.issuer';
import type { GrantHandler, GrantResult, TokenRequestContext } from './grant-handler';
import { ScopeResolver } from './scope-resolution';
import { targetCeilings, targetTokenFields, TokenTargets } from './token-target';

export const CLIENT_CREDENTIALS = 'client_credentials';

/**
 * `grant_type=client_credentials` (RFC 6749 §4.4, CONTRACT §4): the client (an agent authenticated with one
 * of its API keys) gets a token for itself. `scope` absent → the key's scopes minus what policies deny;
 * present → each must be within the key's scopes and allowed by policy, else `invalid_scope`.
 * `resource`/`audience` → the target (`TokenTargets`: the management API or a resource server of the tree,
 * whose scopes are one more ceiling). `offline_access` (a reserved word, never a scope) asks for a refresh
 * token: a new family bound to this client, with this grant's scopes and target.
 */
@Injectable()
export class ClientCredentialsGrant implements GrantHandler {
  readonly grantTypes = [CLIENT_CREDENTIALS];
  readonly auditedAs = CLIENT_CREDENTIALS;

  constructor(
    private readonly scopes: ScopeResolver,
    private readonly issuer: AccessTokenIssuer,
    private readonly refresh: RefreshTokensService,
    private readonly targets: TokenTargets,
    private readonly clock: Clock,
    private readonly dpop: DpopBinding,
  ) {}

  async handle(context: TokenRequestContext): Promise<GrantResult> {
    const { params, client } = context;
    const request = parseScopeRequest(params.scope);
    const target = await this.targets.resolve(params, client.rootAgentId);
    const { jkt } = await this.dpop.bind(context.dpop, {
      clientId: client.agentId,
      clientRequiresDpop: client.requiresDpop,
      subjectAgentId: client.agentId,
      target,
    });
    const { scopes, dropped } = await this.scopes.resolve({
      requested: request.scopes,
      rootAgentId: client.rootAgentId,
      ceilings: [client.scopes, ...targetCeilings(target)],
      agents: [evaluationAgentOf(client)],
      resource: target.audience,
      concrete: target.kind === 'resource_server',
      ip: context.ip,
      requestId: context.requestId,
      time: this.clock.now(),
      delegationDepth: 0,
    });
    // offline_access: a refresh-token family for this grant (its first access token already belongs to it).
    const family = request.offlineAccess
      ? await this.refresh.startFamily({
          client,
          subjectAgentId: client.agentId,
          scopes,
          ...targetTokenFields(target),
          dpopJkt: jkt,
        })
      : undefined;
    const token = await this.issuer.issue({
      client,
      subjectAgentId: client.agentId,
      scopes,
      ...targetTokenFields(target),
      familyId: family?.familyId,
      jkt,
    });
    return {
      token,
      ...(family ? { refreshToken: family.refreshToken } : {}),
      auditDetails: {
        ...(family ? { family_id: family.familyId } : {}),
        ...(dropped.length > 0 ? { policy_dropped: dropped.map((d) => d.scope) } : {}),
      },
    };
  }
}
