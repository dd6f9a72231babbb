/**
 * The pure rules of delegation chains (CONTRACT §6, docs/delegations.md): attenuation of a new hop, the
 * verdict on a chain, and the RFC 8693 `act` claim. No I/O: the service loads rows (under locks) and asks
 * these functions; unit tests cover them.
 */
import { type ActClaim, ForbiddenProblem, ScopeEscalationProblem, ValidationProblem } from '@agentauth/core';
import { intersect, normalize, uncovered } from '@agentauth/scopes';
import { MAX_DELEGATION_DEPTH } from './delegation.entity';

/** A delegation must live at least this long: its token's whole-second `exp` must lie after its `iat`. */
export const MIN_DELEGATION_LIFETIME_MS = 1000;

/** The fields of a hop the rules read. */
export interface HopFacts {
  id: string;
  delegatorAgentId: string;
  delegateAgentId: string;
  parentDelegationId: string | null;
  scopes: readonly string[];
  depth: number;
  maxDepth: number | null;
  status: 'active' | 'revoked';
  expiresAt: Date;
}

/** What the chain verdict needs to know about an agent (from `AgentsService.getActivity`). */
export interface ChainAgentState {
  active: boolean;
  allowedScopes: readonly string[];
  /** Earliest `expires_at` of the agent and its ancestors. */
  effectiveExpiresAt: Date | null;
}

export type ChainInvalidReason =
  /** A hop of the chain (this one or an ancestor) was revoked. */
  | 'delegation_revoked'
  /** A hop of the chain expired (expiry is exclusive: at `expires_at` it is already expired). */
  | 'delegation_expired'
  /** An agent of the chain (the original delegator or a delegate) is suspended, deactivated or expired. */
  | 'agent_inactive'
  /** The rows do not form a chain (cannot happen with the table's trigger; fail closed anyway). */
  | 'broken_chain';

export interface ChainVerdict {
  valid: boolean;
  /** The first reason found, in the order: broken, revoked, expired, agent inactive. */
  reason?: ChainInvalidReason;
  /** The original delegator's current `allowed_scopes` ∩ every hop's scopes. */
  effectiveScopes: string[];
  /** The earliest instant any hop or agent of the chain stops: nothing minted from it may outlive it. */
  expiresAt: Date;
}

/** The agents of a chain in order: the original delegator, then each hop's delegate. */
export function chainAgentIds(hops: readonly HopFacts[]): string[] {
  if (hops.length === 0) return [];
  return [hops[0].delegatorAgentId, ...hops.map((h) => h.delegateAgentId)];
}

/** Do `hops` (first hop first) form one chain: each hop continues the previous one? */
export function isWellFormedChain(hops: readonly HopFacts[]): boolean {
  if (hops.length === 0) return false;
  return hops.every((hop, i) =>
    i === 0
      ? hop.depth === 1 && hop.parentDelegationId === null
      : hop.depth === i + 1 &&
        hop.parentDelegationId === hops[i - 1].id &&
        hop.delegatorAgentId === hops[i - 1].delegateAgentId,
  );
}

/** Intersection along the chain, starting from what the original delegator may do right now. */
export function effectiveScopesOf(
  hops: readonly HopFacts[],
  originalDelegatorScopes: readonly string[],
): string[] {
  return hops.reduce<string[]>((acc, hop) => intersect(acc, hop.scopes), normalize(originalDelegatorScopes));
}

function earliest(dates: (Date | null)[]): Date {
  const times = dates.filter((d): d is Date => d !== null).map((d) => d.getTime());
  return new Date(Math.min(...times));
}

/**
 * THE chain rule (one implementation for `/chain`, the grant and refresh re-checks): a chain is valid when
 * it is well formed, every hop is active and unexpired, and every agent on it (the original delegator and
 * every delegate, with their ancestors) is active. `agents` maps agent ids to their state (missing = unknown
 * = inactive).
 */
export function judgeChain(
  hops: readonly HopFacts[],
  agents: ReadonlyMap<string, ChainAgentState | undefined>,
  now: Date,
): ChainVerdict {
  if (hops.length === 0) throw new Error('judgeChain: empty chain');
  const agentIds = chainAgentIds(hops);
  const states = agentIds.map((id) => agents.get(id));
  const origin = states[0];
  const effectiveScopes = effectiveScopesOf(hops, origin?.allowedScopes ?? []);
  const expiresAt = earliest([
    ...hops.map((h) => h.expiresAt),
    ...states.map((s) => s?.effectiveExpiresAt ?? null),
  ]);
  const reason: ChainInvalidReason | undefined = !isWellFormedChain(hops)
    ? 'broken_chain'
    : hops.some((h) => h.status !== 'active')
      ? 'delegation_revoked'
      : hops.some((h) => h.expiresAt.getTime() <= now.getTime())
        ? 'delegation_expired'
        : states.some((s) => !s || !s.active)
          ? 'agent_inactive'
          : undefined;
  return reason
    ? { valid: false, reason, effectiveScopes, expiresAt }
    : { valid: true, effectiveScopes, expiresAt };
}

/**
 * RFC 8693 §4.1 `act` for a chain whose delegates are `delegates` (first hop's delegate first): the
 * outermost `act` is the current actor (the last delegate), each nested `act` the one before it.
 * `['orchestrator', 'worker']` → `{sub: 'worker', act: {sub: 'orchestrator'}}`.
 */
export function buildActClaim(delegates: readonly string[]): ActClaim {
  if (delegates.length === 0) throw new Error('buildActClaim: no delegates');
  let act: ActClaim | undefined;
  for (const sub of delegates) act = act ? { sub, act } : { sub };
  return act as ActClaim;
}

/** The actors of an `act` claim, outermost (current actor) first. */
export function actorsOf(act: ActClaim | undefined): string[] {
  const out: string[] = [];
  for (let a = act; a; a = a.act) out.push(a.sub);
  return out;
}

export interface NewHopRequest {
  scopes: readonly string[];
  expiresAt: Date;
  maxDepth?: number;
}

export interface NewHopContext {
  now: Date;
  /** MAX_DELEGATION_LIFETIME_SECONDS in ms. */
  maxLifetimeMs: number;
  /** The calling token's scopes (CONTRACT §5: nothing written exceeds them). */
  tokenScopes: readonly string[];
  /**
   * What the delegator may hand out: its own `allowed_scopes` for a first hop, the parent chain's effective
   * scopes when re-delegating.
   */
  grantable: readonly string[];
  /** For error messages: whose scopes `grantable` are. */
  grantableLabel: string;
  /**
   * The latest allowed expiry: the parent chain's (when re-delegating) and every involved agent's effective
   * expiry; `null` when nothing bounds it.
   */
  expiryCeiling: Date | null;
  parent: { depth: number; maxDepth: number | null } | null;
}

export interface ResolvedHop {
  scopes: string[];
  expiresAt: Date;
  depth: number;
  maxDepth: number | null;
}

/**
 * What a new hop will be, or the refusal: every escalation (wider scopes, a later expiry, deeper than the
 * parent's `max_depth`, a `max_depth` above the parent's) is a 403 — never trimmed; malformed values
 * (an expiry in the past or beyond the configured bound, a `max_depth` below the hop's own depth) a 400.
 */
export function resolveNewHop(request: NewHopRequest, context: NewHopContext): ResolvedHop {
  const { now } = context;
  if (request.expiresAt.getTime() < now.getTime() + MIN_DELEGATION_LIFETIME_MS) {
    throw new ValidationProblem('expires_at must be in the future', [
      { field: 'expires_at', message: 'expires_at must be at least one second in the future' },
    ]);
  }
  if (request.expiresAt.getTime() > now.getTime() + context.maxLifetimeMs) {
    throw new ValidationProblem('expires_at is too far in the future', [
      {
        field: 'expires_at',
        message: `a delegation lives at most ${Math.floor(context.maxLifetimeMs / 1000)} seconds`,
      },
    ]);
  }

  const scopes = normalize(request.scopes);
  const beyondGrantable = uncovered(scopes, context.grantable);
  if (beyondGrantable.length > 0) {
    throw new ScopeEscalationProblem(`scopes exceed ${context.grantableLabel}: ${beyondGrantable.join(' ')}`);
  }
  const beyondToken = uncovered(scopes, context.tokenScopes);
  if (beyondToken.length > 0) {
    throw new ScopeEscalationProblem(
      `scopes exceed the scopes of the calling token: ${beyondToken.join(' ')}`,
    );
  }

  if (context.expiryCeiling && request.expiresAt.getTime() > context.expiryCeiling.getTime()) {
    throw new ForbiddenProblem(
      `expires_at may not be later than ${context.expiryCeiling.toISOString()} (the parent delegation's or an involved agent's expiry)`,
      'lifetime_escalation',
    );
  }

  const parent = context.parent;
  const depth = parent ? parent.depth + 1 : 1;
  const depthLimit = Math.min(parent?.maxDepth ?? MAX_DELEGATION_DEPTH, MAX_DELEGATION_DEPTH);
  if (depth > depthLimit) {
    throw new ForbiddenProblem(
      `The chain may not be deeper than ${depthLimit}; this re-delegation would be at depth ${depth}`,
      'max_depth_exceeded',
    );
  }
  if (request.maxDepth !== undefined) {
    if (request.maxDepth < depth) {
      throw new ValidationProblem("max_depth is below the delegation's own depth", [
        { field: 'max_depth', message: `must be at least ${depth} (the depth of this delegation)` },
      ]);
    }
    if (request.maxDepth > depthLimit) {
      throw new ForbiddenProblem(
        parent?.maxDepth != null
          ? `max_depth may not exceed ${depthLimit} (the parent delegation's max_depth)`
          : `max_depth may not exceed ${depthLimit}`,
        'depth_escalation',
      );
    }
  }
  const maxDepth = request.maxDepth ?? parent?.maxDepth ?? null;
  return { scopes, expiresAt: request.expiresAt, depth, maxDepth };
}
