import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { Clock, InvalidationBus, ServiceUnavailableProblem } from '@agentauth/core';
import { compilePolicySet, type CompiledPolicySet, InvalidPolicyError } from './evaluation/policy-evaluator';
import type {
  EvaluationAgent,
  EvaluationContext,
  MatchedPolicy,
  PolicyDecision,
  PolicyDecisionReason,
  PolicyDefinition,
} from './evaluation/policy.types';
import { PoliciesRepository } from './policies.repository';
import type { Policy } from './policy.entity';

/** A cached policy set older than this (since it was loaded or last verified) is verified before use. */
export const POLICY_CACHE_RECHECK_MS = 5_000;
/** After a failed verification (database unreachable), the cached set is used this long before retrying. */
export const POLICY_CACHE_RETRY_MS = 1_000;
/** Trees whose compiled policy sets a process keeps (least recently used ones are dropped). */
export const POLICY_CACHE_MAX_TREES = 10_000;
/** Invalidation channel; the payload is the root agent id of the tree whose policies changed. */
export const POLICIES_CHANGED_CHANNEL = 'policies:changed';

/** One decision to make (CONTRACT §6): the agent as the caller knows it, the action, resource and context. */
export interface DecisionRequest {
  /**
   * `ancestor_ids`: root first (the agent itself last, or left out); `[]` for a root. The tree is
   * `ancestor_ids[0]` (or the agent itself).
   */
  agent: EvaluationAgent;
  /** A scope name (a wildcard stands for every scope below it). */
  action: string;
  /** Default `*`. */
  resource?: string;
  context?: EvaluationContext;
}

/** The scopes a token request asks for, and where/when it is made (CONTRACT §4, §6). */
export interface IssuanceScopeRequest {
  agent: EvaluationAgent;
  /** The scopes to check (without `offline_access`, which is never a scope). */
  scopes: readonly string[];
  /**
   * The token's audience(s) (`resource`/`audience` of the request): each scope is evaluated with each as the
   * resource and must be allowed for all of them. Absent/empty: `*` (any resource).
   */
  audience?: string | readonly string[] | null;
  /** The client IP of the token request. */
  ip?: string | null;
  /** The instant of the request (default: `clock.now()`). */
  time?: Date;
  /** Length of the delegation chain the token acts through (0 for a direct grant). */
  delegationDepth?: number;
}

export interface DeniedScope {
  scope: string;
  reason: PolicyDecisionReason;
  matched_policies: readonly MatchedPolicy[];
  /** The resource (audience) the denying decision was made for. */
  resource: string;
}

export interface IssuanceScopeResult {
  /** The requested scopes every policy lets through, in request order. */
  allowed: string[];
  /** The others, each with the decision that refused it. */
  denied: DeniedScope[];
}

interface CacheEntry {
  readonly set: CompiledPolicySet;
  readonly version: number;
  /** `clock.nowMs()` of the load or last successful verification. */
  checkedAtMs: number;
}

function toDefinition(policy: Policy): PolicyDefinition {
  return {
    id: policy.id,
    name: policy.name,
    effect: policy.effect,
    subjects: policy.subjects,
    actions: policy.actions,
    resources: policy.resources,
    conditions: policy.conditions,
    priority: policy.priority,
    enabled: policy.enabled,
    owner_agent_id: policy.ownerAgentId,
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Policy decisions for the whole service (`/policies/evaluate` and every grant at issuance) through the ONE
 * evaluator (`compilePolicySet(...).evaluate`), with each tree's compiled set held in memory:
 *
 * - loaded lazily on a tree's first decision (its enabled policies and its `policy_set_versions` counter,
 *   from one snapshot), LRU-bounded;
 * - invalidated across processes on every policy change: the writer bumps the tree's version in the
 *   changing transaction, and after commit drops its own copy and publishes `policies:changed` (InvalidationBus);
 * - fallback for a missed message: a set not verified for `POLICY_CACHE_RECHECK_MS` is verified (one
 *   primary-key read of the version) before its next use, so no decision uses a set more than a few seconds
 *   behind a change; after a subscriber reconnect every set is re-verified before use.
 *
 * The warm path (a set verified within the interval) reads nothing: no database, no Redis.
 */
@Injectable()
export class PolicyDecisionService implements OnModuleInit, OnModuleDestroy {
  private readonly cache = new Map<string, CacheEntry>();
  /** Bumped by every invalidation of a tree: a load that overlaps one starts again. */
  private readonly generations = new Map<string, number>();
  private readonly loading = new Map<string, Promise<CacheEntry>>();
  private readonly verifying = new Map<string, Promise<void>>();
  private unsubscribe?: () => void;

  constructor(
    private readonly repository: PoliciesRepository,
    private readonly bus: InvalidationBus,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('PolicyDecisionService');
  }

  onModuleInit(): void {
    this.unsubscribe = this.bus.subscribe(POLICIES_CHANGED_CHANNEL, {
      onMessage: (rootAgentId) => this.invalidate(rootAgentId),
      onResync: () => this.markAllUnverified(),
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** One decision (CONTRACT §6's five steps). */
  async evaluate(request: DecisionRequest): Promise<PolicyDecision> {
    const set = await this.policySet(treeOf(request.agent));
    return set.evaluate({
      agent: request.agent,
      action: request.action,
      resource: request.resource,
      context: request.context,
    });
  }

  /**
   * The scopes of a token request that policies allow: each scope evaluated with the request's audience as
   * resource (`*` when none; every audience when several), IP and time. What to do with `denied` is the
   * grant's business (CONTRACT §4: a requested scope denied → `invalid_scope`; no `scope` parameter → denied
   * scopes dropped) — as is the `scope.denied` audit event.
   */
  async filterScopesForIssuance(request: IssuanceScopeRequest): Promise<IssuanceScopeResult> {
    const set = await this.policySet(treeOf(request.agent));
    const audiences =
      request.audience === undefined || request.audience === null
        ? ['*']
        : typeof request.audience === 'string'
          ? [request.audience]
          : request.audience.length > 0
            ? request.audience
            : ['*'];
    const context: EvaluationContext = {
      ip: request.ip ?? undefined,
      time: request.time ?? this.clock.now(),
      delegation_depth: request.delegationDepth ?? 0,
    };
    const allowed: string[] = [];
    const denied: DeniedScope[] = [];
    for (const scope of request.scopes) {
      let refusal: DeniedScope | null = null;
      for (const resource of audiences) {
        const decision = set.evaluate({ agent: request.agent, action: scope, resource, context });
        if (decision.decision === 'deny') {
          refusal = { scope, reason: decision.reason, matched_policies: decision.matched_policies, resource };
          break;
        }
      }
      if (refusal) denied.push(refusal);
      else allowed.push(scope);
    }
    return { allowed, denied };
  }

  /**
   * After a committed policy change of the tree: drops this process's copy and tells every other process.
   * (The version bump in the same transaction covers a lost message.)
   */
  async announceChange(rootAgentId: string): Promise<void> {
    this.invalidate(rootAgentId);
    await this.bus.publish(POLICIES_CHANGED_CHANNEL, rootAgentId.toLowerCase());
  }

  /** Drops this process's copy of the tree's set (the next decision reloads it). */
  invalidate(rootAgentId: string): void {
    const root = rootAgentId.toLowerCase();
    this.generations.set(root, (this.generations.get(root) ?? 0) + 1);
    this.cache.delete(root);
  }

  /**
   * Verifies every cached set (or one tree's) against the database now, dropping the stale ones. The
   * decision path does this by itself once a set is `POLICY_CACHE_RECHECK_MS` old; tools and tests call it
   * to force the fallback.
   */
  async verify(rootAgentId?: string): Promise<void> {
    const roots = rootAgentId ? [rootAgentId.toLowerCase()] : [...this.cache.keys()];
    const checks: Promise<void>[] = [];
    for (const root of roots) {
      const entry = this.cache.get(root);
      if (entry) checks.push(this.verifyEntry(root, entry));
    }
    await Promise.all(checks);
  }

  /** Number of trees held in memory (observability, tests). */
  get cachedTrees(): number {
    return this.cache.size;
  }

  private markAllUnverified(): void {
    for (const entry of this.cache.values()) entry.checkedAtMs = Number.NEGATIVE_INFINITY;
  }

  private async policySet(root: string): Promise<CompiledPolicySet> {
    const entry = this.cache.get(root);
    if (entry) {
      if (this.clock.nowMs() - entry.checkedAtMs < POLICY_CACHE_RECHECK_MS) {
        // Warm path. Least recently used order: a hit moves the tree to the end.
        this.cache.delete(root);
        this.cache.set(root, entry);
        return entry.set;
      }
      await this.verifyEntry(root, entry);
      const current = this.cache.get(root);
      if (current) return current.set;
    }
    return (await this.load(root)).set;
  }

  /** One primary-key read shared by concurrent callers; a changed version drops the entry. */
  private verifyEntry(root: string, entry: CacheEntry): Promise<void> {
    let pending = this.verifying.get(root);
    if (!pending) {
      const generation = this.generations.get(root) ?? 0;
      pending = (async () => {
        try {
          const version = await this.repository.setVersion(root);
          if ((this.generations.get(root) ?? 0) !== generation || this.cache.get(root) !== entry) return;
          if (version === entry.version) entry.checkedAtMs = this.clock.nowMs();
          else this.invalidate(root);
        } catch (error) {
          // The database is unreachable: keep deciding with the set we have, retry shortly.
          this.logger.warn({ root_agent_id: root, error: errorMessage(error) }, 'policy set not verified');
          entry.checkedAtMs = this.clock.nowMs() - POLICY_CACHE_RECHECK_MS + POLICY_CACHE_RETRY_MS;
        } finally {
          this.verifying.delete(root);
        }
      })();
      this.verifying.set(root, pending);
    }
    return pending;
  }

  /** Loads and compiles the tree's set; concurrent callers share one load. */
  private load(root: string): Promise<CacheEntry> {
    let pending = this.loading.get(root);
    if (!pending) {
      pending = this.loadFresh(root).finally(() => this.loading.delete(root));
      this.loading.set(root, pending);
    }
    return pending;
  }

  private async loadFresh(root: string): Promise<CacheEntry> {
    for (let attempt = 1; ; attempt++) {
      const generation = this.generations.get(root) ?? 0;
      let loaded: { version: number; policies: Policy[] };
      try {
        loaded = await this.repository.loadTree(root);
      } catch (error) {
        this.logger.warn({ root_agent_id: root, error: errorMessage(error) }, 'policies not loaded');
        throw new ServiceUnavailableProblem('Policies cannot be evaluated right now');
      }
      let set: CompiledPolicySet;
      try {
        set = compilePolicySet(loaded.policies.map(toDefinition), { rootAgentId: root });
      } catch (error) {
        if (!(error instanceof InvalidPolicyError)) throw error;
        // Fail closed: no decisions for a tree whose stored policies cannot be compiled.
        this.logger.error(
          { root_agent_id: root, policy_id: error.policyId, problems: error.problems },
          'a stored policy cannot be compiled: no decisions for its tree',
        );
        throw new ServiceUnavailableProblem('The policies of this tree cannot be evaluated');
      }
      const overtaken = (this.generations.get(root) ?? 0) !== generation;
      if (overtaken && attempt < 3) continue; // a change was announced while loading: load again
      const entry: CacheEntry = {
        set,
        version: loaded.version,
        // If changes keep overtaking the load, use it once and verify it on the next decision.
        checkedAtMs: overtaken ? Number.NEGATIVE_INFINITY : this.clock.nowMs(),
      };
      this.cache.delete(root);
      this.cache.set(root, entry);
      while (this.cache.size > POLICY_CACHE_MAX_TREES) {
        const oldest = this.cache.keys().next().value;
        if (oldest === undefined) break;
        this.cache.delete(oldest);
      }
      return entry;
    }
  }
}

/** The root of the agent's tree: the first of its ancestors, or itself. */
function treeOf(agent: EvaluationAgent): string {
  return (agent.ancestor_ids.length > 0 ? agent.ancestor_ids[0] : agent.id).toLowerCase();
}
