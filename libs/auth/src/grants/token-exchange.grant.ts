import { Injectable } from '@nestjs/common';
import { AgentsService, inCallersTree } from '@agentauth/agents';
import { type ActClaim, Clock } from '@agentauth/core';
import type { EvaluationAgent } from '@agentauth/policies';
import { ResourceServersService } from '@agentauth/resource-servers';
import { parseScopeParam, parseScopeRequest } from '@agentauth/scopes';
import { evaluationAgentOf } from '../clients/authenticated-client';
import {
  InvalidDpopProofError,
  InvalidGrantError,
  InvalidRequestError,
  InvalidTargetError,
} from '../vocabulary/oauth-errors';
import { requireParam } from '../vocabulary/oauth-params';
import { DpopBinding } from './dpop-binding';
import {
  type AccessTokenClaims,
  actDepth,
  formatRef,
  MAX_ACT_DEPTH,
  MAX_SUBJECT_REFS,
  revocationRefsOf,
  actSubjects,
} from '../tokens/access-token-claims';
import { AccessTokenIssuer } from '../tokens/access-token.issuer';
import { AccessTokenValidator } from '../tokens/access-token.validator';
import { TokenRejectedError } from '../tokens/token-rejected.error';
import type { GrantHandler, GrantResult, TokenRequestContext } from './grant-handler';
import { ScopeResolver } from './scope-resolution';
import { targetCeilings, targetTokenFields, type TokenTarget, TokenTargets } from './token-target';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt';
/** Subject and actor tokens are this server's access tokens (JWTs), under either RFC 8693 name. */
const ACCEPTED_TYPES = new Set([ACCESS_TOKEN_TYPE, JWT_TOKEN_TYPE]);

function idsInPath(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

/**
 * RFC 8693 token exchange (CONTRACT §4, §8): the authenticated client (the actor) trades an access token of
 * its root tree (the subject token) for a new access token that acts for the same `sub`:
 * - only two actors are authorized (RFC 8693 §5): the subject token's own `client_id`, or the agent
 *   registered as the subject token's resource server (`agent_id`: the on-behalf-of call downstream); any
 *   other agent, in the tree or not, gets `invalid_grant` (handing authority over is what delegations do);
 * - scope ⊆ the subject token's scope ∩ the actor key's scopes (⊆ its `allowed_scopes`) ∩ the target
 *   resource server's scopes, policies asked for the subject's agent and for the actor (else `invalid_scope`);
 * - the target (`resource` or `audience`): the subject token's own by default; another resource server of
 *   the tree (downscoping for a downstream call); never from a resource server to the management API;
 * - `exp` ≤ the subject token's `exp`;
 * - `act` = `{sub: actor, act: <the subject token's act>}` (nested, the outermost is the current actor);
 * - `subject_refs` = every revocation reference of the subject token, so the new token dies with it (its
 *   `jti`, credential, agents, family, delegation, and its own subject's);
 * - `issued_token_type` in the response; never a refresh token.
 * An `actor_token`, when given, must be an active access token of the authenticated client itself.
 */
@Injectable()
export class TokenExchangeGrant implements GrantHandler {
  readonly grantTypes = [TOKEN_EXCHANGE];
  readonly auditedAs = TOKEN_EXCHANGE;

  constructor(
    private readonly validator: AccessTokenValidator,
    private readonly scopes: ScopeResolver,
    private readonly issuer: AccessTokenIssuer,
    private readonly agents: AgentsService,
    private readonly targets: TokenTargets,
    private readonly resourceServers: ResourceServersService,
    private readonly clock: Clock,
    private readonly dpop: DpopBinding,
  ) {}

  async handle(context: TokenRequestContext): Promise<GrantResult> {
    const { params, client } = context;
    const subjectToken = requireParam(params, 'subject_token');
    const subjectTokenType = requireParam(params, 'subject_token_type');
    if (!ACCEPTED_TYPES.has(subjectTokenType)) {
      throw new InvalidRequestError('Unsupported subject_token_type: only access tokens can be exchanged');
    }
    if (params.requested_token_type !== undefined && !ACCEPTED_TYPES.has(params.requested_token_type)) {
      throw new InvalidRequestError('Unsupported requested_token_type: only access tokens are issued');
    }

    const subject = await this.activeToken(subjectToken, 'subject');
    // Only agents of the subject's root tree may exchange its tokens; anything else looks like a bad token.
    if (!inCallersTree(subject.agent.root_agent_id, client)) {
      throw new InvalidGrantError('The subject token is invalid, expired or revoked', 'other_tree');
    }
    const subjectTarget = await this.subjectTarget(subject);
    if (subject.client_id !== client.agentId && !this.isServerAgent(subjectTarget, client.agentId)) {
      throw new InvalidGrantError(
        'The client is not authorized to exchange the subject token',
        'actor_not_authorized',
      );
    }
    let actorJkt: string | undefined;
    if (params.actor_token !== undefined) {
      if (!ACCEPTED_TYPES.has(requireParam(params, 'actor_token_type'))) {
        throw new InvalidRequestError('Unsupported actor_token_type: only access tokens are accepted');
      }
      const actor = await this.activeToken(params.actor_token, 'actor');
      actorJkt = actor.cnf?.jkt;
      if (actor.sub !== client.agentId || actor.client_id !== client.agentId) {
        throw new InvalidGrantError(
          'The actor token does not represent the authenticated client',
          'actor_mismatch',
        );
      }
    } else if (params.actor_token_type !== undefined) {
      throw new InvalidRequestError('actor_token_type without actor_token');
    }

    const act: ActClaim = { sub: client.agentId, ...(subject.act ? { act: subject.act } : {}) };
    if (actDepth(act) > MAX_ACT_DEPTH) {
      throw new InvalidRequestError(`An act chain holds at most ${MAX_ACT_DEPTH} actors`);
    }
    const target = (await this.targets.named(params, client.rootAgentId)) ?? subjectTarget;
    if (target.kind === 'management' && subjectTarget.kind !== 'management') {
      throw new InvalidTargetError("A resource server's token cannot be exchanged for the management API");
    }
    // A bound subject token is exchanged only with a proof by its key; the new token is bound to the
    // actor's proof whenever one is sent (CONTRACT §4, §10).
    const { jkt } = await this.dpop.bind(
      context.dpop,
      {
        clientId: client.agentId,
        clientRequiresDpop: client.requiresDpop,
        subjectAgentId: subject.sub,
        actorIds: actSubjects(act),
        target,
      },
      subject.cnf ? { jkt: subject.cnf.jkt, what: 'subject token' } : undefined,
    );
    // A bound actor token is presented only with a proof by its key too (it is as good as the token).
    if (actorJkt !== undefined && jkt !== actorJkt) {
      throw new InvalidDpopProofError(
        jkt === undefined
          ? 'DPoP proof required: the actor token is DPoP-bound'
          : 'The DPoP proof is not by the key the actor token is bound to',
        'actor_dpop_key_mismatch',
      );
    }
    const subjectRefs = revocationRefsOf(subject).map(formatRef);
    if (subjectRefs.length > MAX_SUBJECT_REFS) {
      throw new InvalidRequestError('The subject token cannot be exchanged further');
    }

    const request = parseScopeRequest(params.scope);
    const { scopes } = await this.scopes.resolve({
      requested: request.scopes,
      rootAgentId: client.rootAgentId,
      ceilings: [parseScopeParam(subject.scope), client.scopes, ...targetCeilings(target)],
      agents: [await this.subjectAgent(subject.sub), evaluationAgentOf(client)],
      resource: target.audience,
      concrete: target.kind === 'resource_server',
      ip: context.ip,
      requestId: context.requestId,
      time: this.clock.now(),
      delegationDepth: actDepth(act),
    });

    const token = await this.issuer.issue({
      client,
      subjectAgentId: subject.sub,
      scopes,
      ...targetTokenFields(target),
      act,
      delegationId: subject.delegation_id,
      subjectRefs,
      authTimeMs: subject.auth_time * 1000,
      notAfterMs: [subject.exp * 1000],
      jkt,
    });
    return {
      token,
      issuedTokenType: ACCESS_TOKEN_TYPE,
      auditDetails: { subject_jti: subject.jti, act_depth: actDepth(act) },
    };
  }

  /**
   * The subject token's target: its resource server (still registered: its deletion revoked the token
   * anyway), or the management API when its `aud` is the management identifier. Anything else (a token
   * from before resource servers, for an unregistered audience) cannot be exchanged.
   */
  private async subjectTarget(subject: AccessTokenClaims): Promise<TokenTarget> {
    const management = this.targets.management();
    if (subject.resource_server_id !== undefined) {
      const server = await this.resourceServers.findByIdForIssuance(
        subject.agent.root_agent_id,
        subject.resource_server_id,
      );
      if (server && subject.aud === server.identifier) {
        return { kind: 'resource_server', audience: server.identifier, server };
      }
    } else if (subject.aud === management.audience) {
      return management;
    }
    throw new InvalidGrantError('The subject token is invalid, expired or revoked', 'subject_audience');
  }

  /** Is `agentId` the agent registered as the subject token's resource server (CONTRACT §8 `agent_id`)? */
  private isServerAgent(target: TokenTarget, agentId: string): boolean {
    return target.kind === 'resource_server' && target.server.agentId === agentId;
  }

  /** An active access token (any audience), else `invalid_grant` (503 when the revocation state is unreadable). */
  private async activeToken(jwt: string, which: 'subject' | 'actor'): Promise<AccessTokenClaims> {
    try {
      return await this.validator.validate(jwt);
    } catch (error) {
      if (error instanceof TokenRejectedError) {
        throw new InvalidGrantError(
          `The ${which} token is invalid, expired or revoked`,
          `${which}_${error.reason}`,
        );
      }
      throw error; // RevocationStateUnavailableError: 503, never a guess
    }
  }

  /** The subject's agent for the policy step (and a last check that it is active). */
  private async subjectAgent(agentId: string): Promise<EvaluationAgent> {
    const activity = await this.agents.getActivity(agentId);
    if (!activity?.active) {
      throw new InvalidGrantError('The subject token is invalid, expired or revoked', 'subject_inactive');
    }
    const { agent } = activity;
    return {
      id: agent.id,
      trust_level: agent.trustLevel,
      allowed_scopes: agent.allowedScopes,
      active: true,
      ancestor_ids: idsInPath(agent.path),
    };
  }
}
