import { Inject, Injectable } from '@nestjs/common';
import type { EvaluationAgent } from '@agentauth/policies';
import { ScopeRegistry } from '@agentauth/scope-registry';
import { coveredBy, intersect, isValidScopeName, normalize, uncovered } from '@agentauth/scopes';
import { InvalidScopeError } from '../vocabulary/oauth-errors';
import { ISSUANCE_POLICY, type IssuancePolicy } from '../policy/issuance-policy';

export interface ScopeResolutionRequest {
  /**
   * The scopes the request names (`offline_access` already removed), or `undefined`/empty when it named
   * none: then the default is the whole ceiling minus what policies deny.
   */
  requested: readonly string[] | undefined;
  /** The client's root tree: requested scopes must be registered there (or be built-ins). */
  rootAgentId: string;
  /** Every ceiling the token must stay within (key scopes, subject token scopes, an actor's allowed scopes…). */
  ceilings: readonly (readonly string[])[];
  /** Agents the policies are evaluated for: the client, and for an exchange the actor too. */
  agents: readonly EvaluationAgent[];
  /** The policies' resource: the token's target audience (`TokenTarget.audience`; `null` → `*`). */
  resource: string | null;
  ip?: string;
  /** The token request's id, carried into the `scope.denied` audit events. */
  requestId?: string;
  time: Date;
  delegationDepth: number;
  /**
   * A token for a registered resource server (CONTRACT §8): wildcards are expanded to the concrete
   * registered scopes they cover (and those kept only when every ceiling covers them), and an empty result
   * is `invalid_scope`.
   */
  concrete?: boolean;
}

export interface ResolvedScopes {
  scopes: string[];
  /** Scopes of a default set that policies dropped (for the audit trail). */
  dropped: { scope: string; reason: string }[];
}

/**
 * THE scope step of every grant (CONTRACT §4, §6): requested scopes must be valid names, registered for the
 * client's tree and within every ceiling (else `invalid_scope`); then the issuance policy decides for each
 * agent. A denied scope fails an explicit request and is silently dropped from a default one. The result is
 * normalized (sorted, de-duplicated).
 *
 * The registration check reads the registry's in-memory names (no database read when every requested name
 * is known; only a name the cache does not know is re-read once before it is refused). A default set needs
 * no check: it is an intersection of stored ceilings, whose names were registered when they were written.
 */
@Injectable()
export class ScopeResolver {
  constructor(
    @Inject(ISSUANCE_POLICY) private readonly policy: IssuancePolicy,
    private readonly registry: ScopeRegistry,
  ) {}

  async resolve(request: ScopeResolutionRequest): Promise<ResolvedScopes> {
    const explicit = request.requested !== undefined && request.requested.length > 0;
    let candidates: string[];
    if (explicit) {
      const requested = request.requested as readonly string[];
      const invalid = requested.filter((s) => !isValidScopeName(s));
      if (invalid.length > 0) {
        throw new InvalidScopeError(`Invalid scope name(s): ${invalid.map((s) => s.slice(0, 64)).join(' ')}`);
      }
      const unregistered = await this.registry.unregistered(request.rootAgentId, requested);
      if (unregistered.length > 0) {
        throw new InvalidScopeError(`Not registered scope(s): ${unregistered.join(' ')}`);
      }
      for (const ceiling of request.ceilings) {
        const beyond = uncovered(requested, ceiling);
        if (beyond.length > 0) {
          throw new InvalidScopeError(`The scope(s) ${beyond.join(' ')} may not be issued to this client`);
        }
      }
      candidates = normalize(requested);
    } else {
      candidates = intersectAll(request.ceilings);
    }
    if (request.concrete) {
      const expanded = await this.registry.expand(request.rootAgentId, candidates);
      candidates = expanded.filter((s) => request.ceilings.every((ceiling) => coveredBy(s, ceiling)));
      if (candidates.length === 0) {
        throw new InvalidScopeError('No scope this resource server accepts can be issued to this client');
      }
    }
    const dropped: ResolvedScopes['dropped'] = [];
    for (const agent of request.agents) {
      const decision = await this.policy.filterScopes({
        agent,
        scopes: candidates,
        resource: request.resource,
        ip: request.ip,
        requestId: request.requestId,
        time: request.time,
        delegationDepth: request.delegationDepth,
      });
      if (decision.denied.length > 0) {
        if (explicit) {
          throw new InvalidScopeError(
            `The scope(s) ${decision.denied.map((d) => d.scope).join(' ')} are denied by policy`,
          );
        }
        dropped.push(...decision.denied);
      }
      const allowed = new Set(decision.allowed);
      candidates = candidates.filter((s) => allowed.has(s));
    }
    if (request.concrete && candidates.length === 0) {
      throw new InvalidScopeError('Every scope this resource server accepts is denied by policy');
    }
    return { scopes: normalize(candidates), dropped };
  }
}

function intersectAll(ceilings: readonly (readonly string[])[]): string[] {
  if (ceilings.length === 0) return [];
  return ceilings.slice(1).reduce<string[]>((acc, next) => intersect(acc, next), normalize(ceilings[0]));
}
