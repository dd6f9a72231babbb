/**
 * The pure rules of the hierarchy (CONTRACT §2, §5): activity, attenuation of scopes, trust levels and
 * lifetimes. No I/O: the service loads rows (under locks) and asks these functions; unit tests cover them.
 */
import { ForbiddenProblem, ScopeEscalationProblem, ValidationProblem } from '@agentauth/core';
import { normalize, uncovered } from '@agentauth/scopes';
import type { AgentStatus, TrustLevel } from './agent.entity';

/** The fields of an agent the rules read. */
export interface AgentFacts {
  id: string;
  status: AgentStatus;
  trustLevel: TrustLevel;
  allowedScopes: readonly string[];
  expiresAt: Date | null;
}

/** An agent's own rate-limit override (requests per minute), `null` = inherit. */
export interface RateLimitFacts {
  rateLimitPerMinute: number | null;
}

export type InactiveReason =
  | 'deactivated'
  | 'suspended'
  | 'expired'
  | 'ancestor_deactivated'
  | 'ancestor_suspended'
  | 'ancestor_expired';

export interface ChainActivity {
  active: boolean;
  reason?: InactiveReason;
  /** The earliest `expires_at` on the chain: nothing issued for the agent may outlive it. */
  effectiveExpiresAt: Date | null;
}

export function isExpired(expiresAt: Date | null, now: Date): boolean {
  return expiresAt !== null && expiresAt.getTime() <= now.getTime();
}

/**
 * Is the last agent of `chain` (root first, the agent last) active? Inactive when it or any ancestor is
 * deactivated, suspended or expired (expiry is exclusive: at `expires_at` it is already expired).
 */
export function chainActivity(chain: readonly AgentFacts[], now: Date): ChainActivity {
  if (chain.length === 0) throw new Error('chainActivity: empty chain');
  let effectiveExpiresAt: Date | null = null;
  for (const agent of chain) {
    if (agent.expiresAt && (!effectiveExpiresAt || agent.expiresAt < effectiveExpiresAt))
      effectiveExpiresAt = agent.expiresAt;
  }
  const self = chain[chain.length - 1];
  const ancestors = chain.slice(0, -1);
  const reason: InactiveReason | undefined =
    self.status === 'deactivated'
      ? 'deactivated'
      : ancestors.some((a) => a.status === 'deactivated')
        ? 'ancestor_deactivated'
        : self.status === 'suspended'
          ? 'suspended'
          : ancestors.some((a) => a.status === 'suspended')
            ? 'ancestor_suspended'
            : isExpired(self.expiresAt, now)
              ? 'expired'
              : ancestors.some((a) => isExpired(a.expiresAt, now))
                ? 'ancestor_expired'
                : undefined;
  return reason ? { active: false, reason, effectiveExpiresAt } : { active: true, effectiveExpiresAt };
}

/**
 * Attenuation (CONTRACT §2, §5): a scope set written anywhere must be covered by the parent's
 * `allowed_scopes` and by the calling token's scopes. Refused with 403 `scope_escalation`, never trimmed.
 */
export function assertScopesAttenuate(
  requested: readonly string[],
  ceilings: { parent: readonly string[]; token: readonly string[] },
  what = 'allowed_scopes',
): void {
  const beyondParent = uncovered(requested, ceilings.parent);
  if (beyondParent.length > 0) {
    throw new ScopeEscalationProblem(`${what} exceed the parent's allowed_scopes: ${beyondParent.join(' ')}`);
  }
  const beyondToken = uncovered(requested, ceilings.token);
  if (beyondToken.length > 0) {
    throw new ScopeEscalationProblem(
      `${what} exceed the scopes of the calling token: ${beyondToken.join(' ')}`,
    );
  }
}

export interface LifetimeLimits {
  now: Date;
  maxEphemeralLifetimeSeconds: number;
}

/** The bounds of a rate-limit override (also a CHECK constraint of the column). */
export const RATE_LIMIT_OVERRIDE_MAX = 10_000_000;

/**
 * The per-minute limit an agent actually gets (docs/rate-limiting.md "Per-agent overrides"): the root's
 * own value (set by the operator only, it may exceed the default) else `defaultPerMinute`
 * (RATE_LIMIT_AGENT_PER_MINUTE), then the minimum with every override set below it on the chain (root
 * first, the agent last). An override can only lower what the ancestors allow, whenever it was written.
 */
export function effectiveRateLimit(chain: readonly RateLimitFacts[], defaultPerMinute: number): number {
  if (chain.length === 0) throw new Error('effectiveRateLimit: empty chain');
  let limit = chain[0].rateLimitPerMinute ?? defaultPerMinute;
  for (const agent of chain.slice(1)) {
    if (agent.rateLimitPerMinute !== null) limit = Math.min(limit, agent.rateLimitPerMinute);
  }
  return limit;
}

/**
 * Attenuation of rate limits: an override written for a child may not exceed its parent's effective limit
 * (`403 rate_limit_escalation`, never silently lowered). `null` (inherit) is always allowed.
 */
export function assertRateLimitAttenuates(requested: number | null | undefined, parentLimit: number): void {
  if (requested === null || requested === undefined) return;
  if (requested > parentLimit) {
    throw new ForbiddenProblem(
      `rate_limit_per_minute may not exceed the parent's effective limit (${parentLimit} per minute)`,
      'rate_limit_escalation',
    );
  }
}

/** An ephemeral agent's `expires_at` is required, in the future and within the configured bound. */
function assertEphemeralExpiry(expiresAt: Date | null, limits: LifetimeLimits): asserts expiresAt is Date {
  if (!expiresAt) {
    throw new ValidationProblem('An ephemeral agent needs expires_at', [
      { field: 'expires_at', message: 'expires_at is required for an ephemeral agent' },
    ]);
  }
  const max = limits.now.getTime() + limits.maxEphemeralLifetimeSeconds * 1000;
  if (expiresAt.getTime() > max) {
    throw new ValidationProblem('expires_at is too far in the future', [
      {
        field: 'expires_at',
        message: `an ephemeral agent lives at most ${limits.maxEphemeralLifetimeSeconds} seconds`,
      },
    ]);
  }
}

function assertFuture(expiresAt: Date | null, now: Date): void {
  if (expiresAt && expiresAt.getTime() <= now.getTime()) {
    throw new ValidationProblem('expires_at must be in the future', [
      { field: 'expires_at', message: 'expires_at must be in the future' },
    ]);
  }
}

/** Nothing below an expiring agent may outlive it. */
function assertWithinAncestorLifetime(expiresAt: Date | null, ancestorsExpireAt: Date | null): void {
  if (!ancestorsExpireAt) return;
  if (!expiresAt || expiresAt.getTime() > ancestorsExpireAt.getTime()) {
    throw new ForbiddenProblem(
      `expires_at may not be later than the parent's (${ancestorsExpireAt.toISOString()})`,
      'lifetime_escalation',
    );
  }
}

export interface ChildRequest {
  trustLevel?: Exclude<TrustLevel, 'root'>;
  allowedScopes?: readonly string[];
  expiresAt?: Date | null;
  rateLimitPerMinute?: number | null;
}

export interface ResolvedChild {
  trustLevel: Exclude<TrustLevel, 'root'>;
  allowedScopes: string[];
  expiresAt: Date | null;
  rateLimitPerMinute: number | null;
}

/** What the governed rules compare with, besides lifetimes: the parent's effective rate limit. */
export interface GovernanceLimits extends LifetimeLimits {
  parentRateLimitPerMinute: number;
}

/**
 * What a new child of `parent` will be. `parentChainExpiresAt` is the parent's effective expiry (the
 * earliest on its chain).
 * - trust level: `delegated` by default, `ephemeral` by default (and required) under an ephemeral parent;
 * - scopes: `[]` by default (least privilege), else ⊆ parent and ⊆ token;
 * - expiry: inherited from an expiring parent chain when omitted; never later than it; required for
 *   ephemeral agents (given or inherited) and ≤ now + MAX_EPHEMERAL_LIFETIME_SECONDS;
 * - rate limit: none (inherit) by default, else ≤ the parent's effective limit.
 */
export function resolveChild(
  parent: AgentFacts,
  parentChainExpiresAt: Date | null,
  request: ChildRequest,
  tokenScopes: readonly string[],
  limits: GovernanceLimits,
): ResolvedChild {
  const trustLevel = request.trustLevel ?? (parent.trustLevel === 'ephemeral' ? 'ephemeral' : 'delegated');
  if (parent.trustLevel === 'ephemeral' && trustLevel !== 'ephemeral') {
    throw new ForbiddenProblem('Children of an ephemeral agent are ephemeral', 'trust_escalation');
  }
  const allowedScopes = normalize(request.allowedScopes ?? []);
  assertScopesAttenuate(allowedScopes, { parent: parent.allowedScopes, token: tokenScopes });

  let expiresAt = request.expiresAt ?? null;
  assertFuture(expiresAt, limits.now);
  if (!expiresAt && parentChainExpiresAt) expiresAt = parentChainExpiresAt;
  if (trustLevel === 'ephemeral') assertEphemeralExpiry(expiresAt, limits);
  assertWithinAncestorLifetime(expiresAt, parentChainExpiresAt);
  assertRateLimitAttenuates(request.rateLimitPerMinute, limits.parentRateLimitPerMinute);
  return { trustLevel, allowedScopes, expiresAt, rateLimitPerMinute: request.rateLimitPerMinute ?? null };
}

export interface GovernedChange {
  allowedScopes?: readonly string[];
  /** `null` removes the expiry (never for an ephemeral agent or under an expiring parent). */
  expiresAt?: Date | null;
  status?: 'active' | 'suspended';
  /** `null` removes the override (the agent inherits its parent's effective limit). */
  rateLimitPerMinute?: number | null;
}

export interface ResolvedGovernedChange {
  allowedScopes?: string[];
  /** True when the new set does not cover the old one: every descendant must be intersected. */
  narrowsScopes: boolean;
  expiresAt?: Date | null;
  status?: 'active' | 'suspended';
  rateLimitPerMinute?: number | null;
}

/**
 * The fields only a strict ancestor changes (CONTRACT §2). `target` is the agent, `parent` its parent,
 * `parentChainExpiresAt` the parent's effective expiry.
 */
export function resolveGovernedChange(
  target: AgentFacts,
  parent: AgentFacts,
  parentChainExpiresAt: Date | null,
  change: GovernedChange,
  tokenScopes: readonly string[],
  limits: GovernanceLimits,
): ResolvedGovernedChange {
  const out: ResolvedGovernedChange = { narrowsScopes: false };
  if (change.allowedScopes !== undefined) {
    const next = normalize(change.allowedScopes);
    assertScopesAttenuate(next, { parent: parent.allowedScopes, token: tokenScopes });
    out.allowedScopes = next;
    out.narrowsScopes = uncovered(target.allowedScopes, next).length > 0;
  }
  if (change.expiresAt !== undefined) {
    const expiresAt = change.expiresAt;
    assertFuture(expiresAt, limits.now);
    if (target.trustLevel === 'ephemeral') assertEphemeralExpiry(expiresAt, limits);
    assertWithinAncestorLifetime(expiresAt, parentChainExpiresAt);
    out.expiresAt = expiresAt;
  }
  if (change.status !== undefined) out.status = change.status;
  if (change.rateLimitPerMinute !== undefined) {
    assertRateLimitAttenuates(change.rateLimitPerMinute, limits.parentRateLimitPerMinute);
    out.rateLimitPerMinute = change.rateLimitPerMinute;
  }
  return out;
}
