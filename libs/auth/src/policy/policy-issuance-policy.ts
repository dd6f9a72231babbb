import { Injectable } from '@nestjs/common';
import { AuditService } from '@agentauth/audit';
import { inSpan, setSpanAttributes } from '@agentauth/core';
import { PolicyDecisionService } from '@agentauth/policies';
import type { IssuanceDecision, IssuancePolicy, IssuanceRequest } from './issuance-policy';

/**
 * The policy step of issuance bound to the one evaluator (CONTRACT §6): every candidate scope goes through
 * the same deny-override evaluation as `POST /policies/evaluate`, with the request's audience as resource
 * literally (`*` when the request named none: `policyResource`), its IP and time. Each denied scope is
 * audited as `scope.denied`, with the token request's id.
 */
@Injectable()
export class PolicyIssuancePolicy implements IssuancePolicy {
  constructor(
    private readonly decisions: PolicyDecisionService,
    private readonly audit: AuditService,
  ) {}

  async filterScopes(request: IssuanceRequest): Promise<IssuanceDecision> {
    // Counts only: the scopes and policies are the agent's configuration, the span says how much was decided.
    const result = await inSpan(
      'policy.evaluate',
      { attributes: { 'policy.scopes_requested': request.scopes.length } },
      async (span) => {
        const decided = await this.decisions.filterScopesForIssuance({
          agent: request.agent,
          scopes: request.scopes,
          audience: request.resource,
          ip: request.ip ?? null,
          time: request.time,
          delegationDepth: request.delegationDepth,
        });
        setSpanAttributes(span, {
          'policy.scopes_allowed': decided.allowed.length,
          'policy.scopes_denied': decided.denied.length,
        });
        return decided;
      },
    );
    const root = request.agent.ancestor_ids[0] ?? request.agent.id;
    for (const denied of result.denied) {
      await this.audit.record({
        eventType: 'scope.denied',
        outcome: 'denied',
        actorAgentId: request.agent.id,
        rootAgentId: root,
        targetType: 'scope',
        targetId: denied.scope,
        ip: request.ip ?? null,
        requestId: request.requestId ?? null,
        details: {
          reason: denied.reason,
          resource: denied.resource,
          policy_ids: denied.matched_policies.map((p) => p.id),
        },
      });
    }
    return {
      allowed: result.allowed,
      denied: result.denied.map(({ scope, reason }) => ({ scope, reason })),
    };
  }
}
