import { Injectable } from '@nestjs/common';
import type { EvaluationAgent } from '@agentauth/policies';
import { coveredBy } from '@agentauth/scopes';

/** What a grant asks the policy step about: the scopes it is about to put into a token. */
export interface IssuanceRequest {
  /** The agent the scopes are evaluated for (the client; for an exchange, the actor as well). */
  agent: EvaluationAgent;
  /** Candidate scopes, already within every other ceiling (key, subject token, delegation). */
  scopes: readonly string[];
  /**
   * The policies' `resource` (CONTRACT §6): the audience the request names (`policyResource`), `null` when it
   * names none (evaluated as `*`).
   */
  resource: string | null;
  ip?: string;
  /** The token request's id (audit events of the decision carry it). */
  requestId?: string;
  time: Date;
  /** Actors in the chain the token acts through (0 for a client acting for itself). */
  delegationDepth: number;
}

export interface IssuanceDecision {
  allowed: string[];
  denied: { scope: string; reason: string }[];
}

/**
 * The policy step of token issuance (CONTRACT §4, §6): which candidate scopes may be issued. Grants call it
 * through `resolveScopes`; a denied scope is dropped from a default set and refused (`invalid_scope`) when
 * it was asked for explicitly. Bound with `ISSUANCE_POLICY` in AuthModule.
 */
export interface IssuancePolicy {
  filterScopes(request: IssuanceRequest): Promise<IssuanceDecision>;
}

export const ISSUANCE_POLICY = Symbol('ISSUANCE_POLICY');

/**
 * The default (until the policies module binds its `PolicyDecisionService`): the evaluator's step 3 only —
 * a scope is allowed when the agent's `allowed_scopes` cover it, else `default_deny`.
 */
@Injectable()
export class AllowedScopesIssuancePolicy implements IssuancePolicy {
  async filterScopes(request: IssuanceRequest): Promise<IssuanceDecision> {
    const decision: IssuanceDecision = { allowed: [], denied: [] };
    for (const scope of request.scopes) {
      if (coveredBy(scope, request.agent.allowed_scopes)) decision.allowed.push(scope);
      else decision.denied.push({ scope, reason: 'default_deny' });
    }
    return decision;
  }
}
