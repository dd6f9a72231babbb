import { Inject, Injectable } from '@nestjs/common';
import { type Agent, type AgentActivity, AgentsService } from '@agentauth/agents';
import { AuditService } from '@agentauth/audit';
import { APP_CONFIG, type AppConfig, Clock, type Principal, Problem } from '@agentauth/core';
import { DelegationsService } from '@agentauth/delegations';
import type { EvaluationAgent } from '@agentauth/policies';
import { ScopeRegistry } from '@agentauth/scope-registry';
import { coveredBy, normalize } from '@agentauth/scopes';
import { InvalidScopeError } from '../vocabulary/oauth-errors';
import { ScopeResolver } from '../grants/scope-resolution';
import { targetCeilings, type TokenTarget } from '../grants/token-target';
import { AuthorizationCodes } from './authorization-codes.service';

const DAY_SECONDS = 24 * 3600;

/** The agent signed in at the sign-in page: its id and what the API key it used may do. */
export interface SignedInApprover {
  agentId: string;
  rootAgentId: string;
  credentialId: string;
  /** The key's scopes ∩ the agent's allowed_scopes (as client authentication computes them). */
  keyScopes: string[];
}

/** A validated authorization request, as far as consent needs it. */
export interface ConsentRequest {
  client: Agent;
  /** Absent: the resource server's scopes (for the management API: whatever the approver may grant). */
  requestedScopes?: string[];
  target: TokenTarget;
  redirectUri: string;
  codeChallenge: string;
  ip: string;
  requestId?: string;
}

/** One scope line of the consent page. */
export interface ConsentScope {
  scope: string;
  grantable: boolean;
  description: string | null;
}

export interface ConsentView {
  scopes: ConsentScope[];
  grantable: string[];
  /** How long the approval (the delegation) lasts. */
  lifetimeSeconds: number;
}

/** An error the authorization endpoint sends back to the client's redirect URI (RFC 6749 §4.1.2.1). */
export class AuthorizationRedirectError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly internalReason?: string,
  ) {
    super(`${error}: ${description}`);
    this.name = 'AuthorizationRedirectError';
  }
}

function evaluationAgent(activity: AgentActivity): EvaluationAgent {
  const { agent } = activity;
  return {
    id: agent.id,
    trust_level: agent.trustLevel,
    allowed_scopes: agent.allowedScopes,
    active: activity.active,
    ancestor_ids: agent.path.split('/').filter((s) => s.length > 0),
  };
}

/**
 * Consent at the authorization endpoint (CONTRACT §11, docs/authorize.md):
 * - **grantable** = requested ∩ the sign-in key's scopes ∩ the approver's and the client's `allowed_scopes`
 *   ∩ the resource server's scopes, after the policies for both agents — computed by THE scope step of every
 *   grant (`ScopeResolver`, a default set: what policies deny is dropped, not refused);
 * - **approval is a delegation** created through `DelegationsService.create` (the same attenuation and
 *   cascade rules as `POST /delegations`): delegator = the approver, delegate = the client, no
 *   re-delegation, kind `authorization_code`, the resource recorded, lasting the consent's lifetime;
 * - then a code bound to it (`AuthorizationCodes`).
 * Audited: `authorize.approved` / `authorize.denied`.
 */
@Injectable()
export class ConsentService {
  constructor(
    private readonly agents: AgentsService,
    private readonly delegations: DelegationsService,
    private readonly scopes: ScopeResolver,
    private readonly registry: ScopeRegistry,
    private readonly codes: AuthorizationCodes,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** How long an approval lasts: REFRESH_TOKEN_EXPIRE_DAYS, never beyond MAX_DELEGATION_LIFETIME_SECONDS. */
  lifetimeSeconds(): number {
    return Math.min(
      this.config.refreshTokenExpireDays * DAY_SECONDS,
      this.config.maxDelegationLifetimeSeconds,
    );
  }

  /** What the consent page shows: each scope, grantable or not, with its description. */
  async view(request: ConsentRequest, approver: SignedInApprover): Promise<ConsentView> {
    const { grantable } = await this.grantable(request, approver);
    const asked = request.requestedScopes?.length
      ? request.requestedScopes
      : request.target.kind === 'resource_server'
        ? await this.registry.expand(request.client.rootAgentId, request.target.server.scopes)
        : grantable;
    const notGrantable = normalize(asked).filter((s) => !coveredBy(s, grantable));
    const names = [...grantable, ...notGrantable];
    const descriptions = await this.registry.descriptions(request.client.rootAgentId, names);
    return {
      scopes: names.map((scope) => ({
        scope,
        grantable: grantable.includes(scope),
        description: descriptions.get(scope) ?? null,
      })),
      grantable,
      lifetimeSeconds: this.lifetimeSeconds(),
    };
  }

  /**
   * The grantable scopes now (both agents active, else `access_denied`); nothing grantable →
   * `invalid_scope` back at the client (CONTRACT §11).
   */
  async grantable(
    request: ConsentRequest,
    approver: SignedInApprover,
  ): Promise<{ grantable: string[]; approver: AgentActivity; client: AgentActivity }> {
    const [approverActivity, clientActivity] = await Promise.all([
      this.agents.getActivity(approver.agentId),
      this.agents.getActivity(request.client.id),
    ]);
    if (!approverActivity?.active || !clientActivity?.active) {
      throw new AuthorizationRedirectError(
        'access_denied',
        'The approving agent or the client is not active',
      );
    }
    const ceilings = [
      approver.keyScopes,
      approverActivity.agent.allowedScopes,
      clientActivity.agent.allowedScopes,
      ...targetCeilings(request.target),
    ];
    if (request.requestedScopes?.length) ceilings.unshift(request.requestedScopes);
    let grantable: string[];
    try {
      ({ scopes: grantable } = await this.scopes.resolve({
        requested: undefined,
        rootAgentId: request.client.rootAgentId,
        ceilings,
        agents: [evaluationAgent(approverActivity), evaluationAgent(clientActivity)],
        resource: request.target.audience,
        concrete: request.target.kind === 'resource_server',
        ip: request.ip,
        requestId: request.requestId,
        time: this.clock.now(),
        delegationDepth: 1,
      }));
    } catch (error) {
      if (error instanceof InvalidScopeError) grantable = [];
      else throw error;
    }
    if (grantable.length === 0) {
      throw new AuthorizationRedirectError('invalid_scope', 'None of the requested scopes can be granted');
    }
    return { grantable, approver: approverActivity, client: clientActivity };
  }

  /**
   * Approve: the chosen scopes (those of them that are grantable now) become a delegation, and a code bound
   * to it is returned. Nothing chosen → `access_denied`.
   */
  async approve(
    request: ConsentRequest,
    approver: SignedInApprover,
    chosen: readonly string[],
  ): Promise<{ code: string; delegationId: string; scopes: string[] }> {
    const { grantable, approver: approverActivity, client } = await this.grantable(request, approver);
    const scopes = grantable.filter((s) => chosen.includes(s));
    if (scopes.length === 0) {
      await this.recordDenied(request, approver, 'no_scope_approved');
      throw new AuthorizationRedirectError('access_denied', 'No scope was approved');
    }
    const nowMs = this.clock.nowMs();
    const ends = [nowMs + this.lifetimeSeconds() * 1000];
    for (const end of [approverActivity.effectiveExpiresAt, client.effectiveExpiresAt]) {
      if (end) ends.push(end.getTime());
    }
    const expiresAt = new Date(Math.floor(Math.min(...ends) / 1000) * 1000);
    // The approver acts with the authority of the key it signed in with: nothing beyond its scopes.
    const principal: Principal = {
      actorAgentId: approver.agentId,
      subjectAgentId: approver.agentId,
      rootAgentId: approver.rootAgentId,
      scopes: approver.keyScopes,
      credentialId: approver.credentialId,
    };
    const resource = request.target.kind === 'resource_server' ? request.target.audience : null;
    let delegationId: string;
    try {
      const created = await this.delegations.create(
        principal,
        {
          delegate_agent_id: request.client.id,
          scopes,
          expires_at: expiresAt.toISOString(),
          // No re-delegation: the delegation's own depth (CONTRACT §11's `max_depth: 0`).
          max_depth: 1,
        },
        { kind: 'authorization_code', resource },
      );
      delegationId = created.delegation.id;
    } catch (error) {
      // The delegation rules refused it (an expiry too close, the client about to expire, …): the client
      // learns that the request was not approved, the reason goes to the audit trail.
      if (error instanceof Problem && error.status < 500) {
        await this.recordDenied(request, approver, `delegation_refused:${error.code}`);
        throw new AuthorizationRedirectError('access_denied', 'The approval could not be recorded');
      }
      throw error;
    }
    const { code } = await this.codes.issue({
      rootAgentId: request.client.rootAgentId,
      clientAgentId: request.client.id,
      approverAgentId: approver.agentId,
      delegationId,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      scopes,
      resource,
    });
    await this.audit.record({
      eventType: 'authorize.approved',
      outcome: 'success',
      actorAgentId: approver.agentId,
      rootAgentId: request.client.rootAgentId,
      targetType: 'delegation',
      targetId: delegationId,
      ip: request.ip,
      requestId: request.requestId ?? null,
      details: {
        client_id: request.client.id,
        delegation_id: delegationId,
        scope: scopes.join(' '),
        resource: request.target.audience,
        redirect_uri: request.redirectUri,
        credential_id: approver.credentialId,
        expires_at: expiresAt.toISOString(),
      },
    });
    return { code, delegationId, scopes };
  }

  /** Deny: audited; the caller redirects with `access_denied`. */
  async deny(request: ConsentRequest, approver: SignedInApprover): Promise<void> {
    await this.recordDenied(request, approver, 'denied_by_approver');
  }

  private async recordDenied(
    request: ConsentRequest,
    approver: SignedInApprover,
    reason: string,
  ): Promise<void> {
    await this.audit.record({
      eventType: 'authorize.denied',
      outcome: 'denied',
      actorAgentId: approver.agentId,
      rootAgentId: request.client.rootAgentId,
      targetType: 'agent',
      targetId: request.client.id,
      ip: request.ip,
      requestId: request.requestId ?? null,
      details: {
        reason,
        client_id: request.client.id,
        resource: request.target.audience,
        redirect_uri: request.redirectUri,
      },
    });
  }
}
