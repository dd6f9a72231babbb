import type { EvaluationAgent } from '@agentauth/policies';

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
