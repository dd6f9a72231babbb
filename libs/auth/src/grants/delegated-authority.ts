import { Injectable } from '@nestjs/common';
import { AgentsService } from '@agentauth/agents';
import type { EvaluationAgent } from '@agentauth/policies';
import { evaluationAgentOf, type AuthenticatedClient } from '../clients/authenticated-client';
import { InvalidGrantError } from '../vocabulary/oauth-errors';

/** The one description of every refused delegation (no oracle: the reason goes to logs and audit only). */
export const INVALID_DELEGATION_DESCRIPTION = 'The delegation token is invalid, expired or revoked';

function idsInPath(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

/**
 * Whom the policy step evaluates for a token minted from a delegation chain (the `agent_delegation` grant
 * and every refresh of its family), mirroring token exchange (subject and actor):
 * - the original delegator (`sub`, on whose authority the token acts) with its real `allowed_scopes`
 *   (the effective scopes are within them anyway);
 * - the current actor (the delegate = the client) with the chain's effective scopes as its ceiling: a
 *   delegate acts on authority it received, not its own (docs/delegations.md), so the evaluator's step 3
 *   (`default_deny` outside `allowed_scopes`) must not strip what was delegated — but explicit deny
 *   policies naming the actor (its id, its subtree, its trust level, `max_delegation_depth`) still apply.
 */
@Injectable()
export class DelegatedAuthority {
  constructor(private readonly agents: AgentsService) {}

  async policyAgents(
    originalDelegatorId: string,
    client: AuthenticatedClient,
    effectiveScopes: readonly string[],
    internalReason: string,
  ): Promise<EvaluationAgent[]> {
    const activity = await this.agents.getActivity(originalDelegatorId);
    if (!activity?.active) throw new InvalidGrantError(INVALID_DELEGATION_DESCRIPTION, internalReason);
    const { agent } = activity;
    const subject: EvaluationAgent = {
      id: agent.id,
      trust_level: agent.trustLevel,
      allowed_scopes: agent.allowedScopes,
      active: true,
      ancestor_ids: idsInPath(agent.path),
    };
    return [subject, { ...evaluationAgentOf(client), allowed_scopes: [...effectiveScopes] }];
  }
}
