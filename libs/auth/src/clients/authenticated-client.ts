import type { EvaluationAgent } from '@agentauth/policies';
import type { ClientAuthMethod } from '../vocabulary/client-auth-methods';
import type { AgentClaim } from '../tokens/access-token-claims';

/**
 * A client that proved its identity at an OAuth endpoint with `client_id` (its agent id) and an API key:
 * what the grants need to know about it, from a full verification or from the verified-key cache.
 */
export interface AuthenticatedClient {
  agentId: string;
  rootAgentId: string;
  /** The credential it authenticated with; `null` for a public client (CONTRACT §11: it has none). */
  credentialId: string | null;
  /** The key's scopes ∩ the agent's current `allowed_scopes`: the ceiling of what it may be issued. */
  scopes: string[];
  /** The agent's `allowed_scopes` (introspection permission, policy evaluation). */
  allowedScopes: string[];
  trustLevel: AgentClaim['trust_level'];
  version: string | null;
  capabilities: string[];
  /** Root first, the agent itself last. */
  ancestorIds: string[];
  /** Earliest `expires_at` on the agent's chain (ms; null: none). */
  agentExpiresAtMs: number | null;
  /** When the key stops working: its `expires_at` or the end of a rotation's grace (ms; null: never). */
  credentialValidUntilMs: number | null;
  /** Whether the key was already rotated when this was established. */
  rotated: boolean;
  /**
   * `require_dpop` on the agent or an ancestor when this was established (CONTRACT §10). A cached value is
   * trusted only while no `dpopRequirementRef` marker of the chain is newer (`VerifiedKeyCache`).
   */
  requiresDpop: boolean;
  /**
   * When the key, its agent and the agent's ancestors were last read from the database (taken BEFORE that
   * read): the `auth_time` of every token issued on this authentication.
   */
  authenticatedAtMs: number;
  method?: ClientAuthMethod;
  fromCache: boolean;
}

/** The first instant at which the client can no longer be issued anything (ms; null: none). */
export function clientValidUntilMs(client: AuthenticatedClient): number | null {
  const bounds = [client.agentExpiresAtMs, client.credentialValidUntilMs].filter(
    (v): v is number => v !== null,
  );
  return bounds.length ? Math.min(...bounds) : null;
}

/** The `agent` claim of a token whose `client_id` is this client. */
export function agentClaimOf(client: AuthenticatedClient): AgentClaim {
  return {
    trust_level: client.trustLevel,
    root_agent_id: client.rootAgentId,
    version: client.version,
    capabilities: client.capabilities,
  };
}

/** The policy evaluator's view of the client's agent (it is active: it just authenticated). */
export function evaluationAgentOf(client: AuthenticatedClient): EvaluationAgent {
  return {
    id: client.agentId,
    trust_level: client.trustLevel,
    allowed_scopes: client.allowedScopes,
    active: true,
    ancestor_ids: client.ancestorIds,
  };
}
