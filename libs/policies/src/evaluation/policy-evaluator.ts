import { coveredBy, isWildcard } from '@agentauth/scopes';
import { CidrMatcher, newIpWords, parseIp, type IpWords } from './cidr-matcher';
import { GlobMatcher } from './glob-matcher';
import { parsePolicySubject } from './policy-subject';
import { validatePolicyConditions } from './policy-validation';
import type {
  EvaluationContext,
  EvaluationInput,
  MatchedPolicy,
  PolicyDecision,
  PolicyDefinition,
} from './policy.types';
import { CompiledTimeWindow } from './time-window';

/**
 * The policy evaluator (CONTRACT §6) — the one implementation, used by `/policies/evaluate` and by every
 * grant at issuance:
 *   1) agent inactive → deny `agent_inactive`;
 *   2) any matching enabled deny → deny `explicit_deny`;
 *   3) action not covered by the agent's `allowed_scopes` → deny `default_deny` (no allow lifts this);
 *   4) any matching allow → allow `explicit_allow`;
 *   5) else allow `scope_grant`.
 *
 * Deny-override: priority never turns a deny into an allow or back; it only orders `matched_policies`
 * (higher first, ties by id). A policy matches when one of its subjects names the agent, one action glob
 * matches the action, one resource glob matches the resource, and every given condition holds.
 *
 * Fail-closed when the context cannot answer a condition (no or unparseable IP, no or invalid time, a
 * delegation depth that is not a non-negative number): the condition counts as holding for a deny and as
 * failing for an allow, so missing context never removes a deny and never adds an allow. The same rule for
 * an open action/resource (`files:*`, `*`): a deny matches if it could match any value the input stands for,
 * an allow only if its glob covers them all.
 */

const EMPTY: readonly MatchedPolicy[] = Object.freeze([]);
const AGENT_INACTIVE: PolicyDecision = Object.freeze({
  decision: 'deny',
  reason: 'agent_inactive',
  matched_policies: EMPTY,
});
const DEFAULT_DENY: PolicyDecision = Object.freeze({
  decision: 'deny',
  reason: 'default_deny',
  matched_policies: EMPTY,
});
const SCOPE_GRANT: PolicyDecision = Object.freeze({
  decision: 'allow',
  reason: 'scope_grant',
  matched_policies: EMPTY,
});
const NO_CONTEXT: EvaluationContext = Object.freeze({});

/** A stored policy that cannot be compiled (it should have been refused when written). */
export class InvalidPolicyError extends Error {
  constructor(
    readonly policyId: string,
    readonly problems: string[],
  ) {
    super(`policy ${policyId} is invalid: ${problems.join('; ')}`);
    this.name = 'InvalidPolicyError';
  }
}

interface CompiledPolicy {
  readonly ref: MatchedPolicy;
  readonly deny: boolean;
  readonly priority: number;
  /** Position in (priority desc, id asc) order. */
  rank: number;
  readonly actions: readonly GlobMatcher[];
  readonly resources: readonly GlobMatcher[];
  /** Null = no agent confinement beyond the set's tree. */
  readonly ownerId: string | null;
  readonly cidrs: CidrMatcher | null;
  readonly window: CompiledTimeWindow | null;
  /** -1 = no depth condition. */
  readonly maxDepth: number;
  /** Evaluation number that last visited this policy (de-duplicates a policy reached through two buckets). */
  visited: number;
}

/** Text before the first `:` ('' when none). */
function firstSegment(value: string): string {
  const colon = value.indexOf(':');
  return colon < 0 ? '' : value.slice(0, colon);
}

/** Text after the last `:` ('' when none). */
function lastSegment(value: string): string {
  const colon = value.lastIndexOf(':');
  return colon < 0 ? '' : value.slice(colon + 1);
}

function pushOnce(map: Map<string, CompiledPolicy[]>, key: string, policy: CompiledPolicy): void {
  const list = map.get(key);
  if (!list) map.set(key, [policy]);
  else if (list[list.length - 1] !== policy) list.push(policy);
}

/**
 * Candidates reached through one subject key, sub-indexed by the actions they can match. Each action glob
 * files its policy under one key that every action it matches shares:
 * - a literal under itself (`byAction`);
 * - a glob whose text before the first star holds a `:` (`files:*`, `crm.contacts:re*`) under that first
 *   segment, since every action it matches starts with it (`byFirstSegment`);
 * - else a glob whose text after the last star holds a `:` (`*:read`) under that last segment
 *   (`byLastSegment`);
 * - else (`*`, `files*`) in `unkeyed`, looked at for every action.
 * A decision for a concrete action reads four short lists instead of the whole bucket.
 */
class Bucket {
  readonly all: CompiledPolicy[] = [];
  readonly byAction = new Map<string, CompiledPolicy[]>();
  readonly byFirstSegment = new Map<string, CompiledPolicy[]>();
  readonly byLastSegment = new Map<string, CompiledPolicy[]>();
  readonly unkeyed: CompiledPolicy[] = [];

  add(policy: CompiledPolicy): void {
    this.all.push(policy);
    for (const glob of policy.actions) {
      if (glob.literal !== null) pushOnce(this.byAction, glob.literal, policy);
      else if (glob.head.includes(':')) pushOnce(this.byFirstSegment, firstSegment(glob.head), policy);
      else if (glob.tail.includes(':')) pushOnce(this.byLastSegment, lastSegment(glob.tail), policy);
      else if (this.unkeyed[this.unkeyed.length - 1] !== policy) this.unkeyed.push(policy);
    }
  }
}

function bucketIn(map: Map<string, Bucket>, key: string): Bucket {
  let bucket = map.get(key);
  if (!bucket) {
    bucket = new Bucket();
    map.set(key, bucket);
  }
  return bucket;
}

function compilePolicy(policy: PolicyDefinition, rootAgentId: string | null): CompiledPolicy {
  const problems: string[] = [];
  if (policy.effect !== 'allow' && policy.effect !== 'deny') problems.push('effect must be allow or deny');
  if (!Number.isFinite(policy.priority)) problems.push('priority must be a number');
  if (!policy.subjects?.length) problems.push('subjects must not be empty');
  if (!policy.actions?.length) problems.push('actions must not be empty');
  if (!policy.resources?.length) problems.push('resources must not be empty');
  for (const glob of [...(policy.actions ?? []), ...(policy.resources ?? [])]) {
    if (typeof glob !== 'string' || glob.length === 0) problems.push('globs must be non-empty strings');
  }
  for (const subject of policy.subjects ?? []) {
    if (!parsePolicySubject(subject)) problems.push(`invalid subject ${JSON.stringify(subject)}`);
  }
  const conditionErrors: { field: string; message: string }[] = [];
  validatePolicyConditions(policy.conditions, conditionErrors);
  for (const error of conditionErrors) problems.push(`${error.field} ${error.message}`);
  if (problems.length > 0) throw new InvalidPolicyError(policy.id, problems);

  const conditions = policy.conditions ?? {};
  const owner = policy.owner_agent_id ? policy.owner_agent_id.toLowerCase() : null;
  return {
    ref: Object.freeze({ id: policy.id, name: policy.name, effect: policy.effect }),
    deny: policy.effect === 'deny',
    priority: policy.priority,
    rank: 0,
    actions: policy.actions.map((glob) => new GlobMatcher(glob)),
    resources: policy.resources.map((glob) => new GlobMatcher(glob)),
    ownerId: owner === rootAgentId ? null : owner,
    cidrs: conditions.ip_cidrs ? new CidrMatcher(conditions.ip_cidrs) : null,
    window: conditions.time_window ? new CompiledTimeWindow(conditions.time_window) : null,
    maxDepth: conditions.max_delegation_depth ?? -1,
    visited: 0,
  };
}

/** Policies of one effect, indexed by subject: exact agent id, subtree root, trust level, tree-wide. */
class SubjectIndex {
  readonly byAgent = new Map<string, Bucket>();
  readonly bySubtree = new Map<string, Bucket>();
  readonly byTrustLevel = new Map<string, Bucket>();
  readonly everyone = new Bucket();
  hasEveryone = false;

  add(policy: CompiledPolicy, subjects: readonly string[]): void {
    for (const subject of subjects) {
      const parsed = parsePolicySubject(subject);
      switch (parsed?.kind) {
        case 'agent':
          bucketIn(this.byAgent, parsed.agentId).add(policy);
          break;
        case 'subtree':
          bucketIn(this.bySubtree, parsed.agentId).add(policy);
          break;
        case 'trust_level':
          bucketIn(this.byTrustLevel, parsed.trustLevel).add(policy);
          break;
        case 'everyone':
          // `*` = the owner's subtree; without an owner (or owned by the root) the whole tree.
          if (policy.ownerId) bucketIn(this.bySubtree, policy.ownerId).add(policy);
          else {
            this.everyone.add(policy);
            this.hasEveryone = true;
          }
          break;
      }
    }
  }
}

export interface CompilePolicySetOptions {
  /**
   * The root of the tree the policies belong to. When given, `evaluate` refuses (throws) an agent of another
   * tree, so a caching bug can never apply one tree's policies to another's agents.
   */
  rootAgentId?: string;
}

/** One tree's enabled policies, compiled and indexed; `evaluate` compiles nothing and allocates little. */
export interface CompiledPolicySet {
  /** Number of enabled (compiled) policies. */
  readonly size: number;
  evaluate(input: EvaluationInput): PolicyDecision;
}

class PolicySet implements CompiledPolicySet {
  readonly size: number;
  private readonly rootAgentId: string | null;
  /** Denies and allows are indexed apart: step 2 reads only denies, step 4 (rarer) only allows. */
  private readonly denyIndex = new SubjectIndex();
  private readonly allowIndex = new SubjectIndex();

  // Per-evaluation state (evaluate is synchronous, so one set of fields is enough).
  private visit = 0;
  /** Ranks of the matching denies/allows of the current decision (each policy is visited once). */
  private denies = new Int32Array(0);
  private denyCount = 0;
  private allows = new Int32Array(0);
  private allowCount = 0;
  /** The result entry of each policy, by rank. */
  private refsByRank: readonly MatchedPolicy[] = [];
  private covered = false;
  private action = '';
  private actionPrefix: string | null = null;
  private actionFirstSegment = '';
  private actionLastSegment = '';
  private resource = '*';
  private resourcePrefix: string | null = null;
  /** The client IP of the current decision, parsed once; `ipKnown` false when absent or unparseable. */
  private readonly ip: IpWords = newIpWords();
  private ipKnown = false;
  private timeMs = Number.NaN;
  private depth = 0;
  private ancestors: readonly string[] = [];
  private agentId = '';

  constructor(policies: readonly PolicyDefinition[], options: CompilePolicySetOptions) {
    this.rootAgentId = options.rootAgentId?.toLowerCase() ?? null;
    const compiled: CompiledPolicy[] = [];
    for (const policy of policies) {
      if (policy.enabled === false) continue;
      const entry = compilePolicy(policy, this.rootAgentId);
      compiled.push(entry);
      (entry.deny ? this.denyIndex : this.allowIndex).add(entry, policy.subjects);
    }
    compiled
      .sort((a, b) => b.priority - a.priority || (a.ref.id < b.ref.id ? -1 : a.ref.id > b.ref.id ? 1 : 0))
      .forEach((entry, i) => (entry.rank = i));
    this.size = compiled.length;
    this.refsByRank = compiled.map((entry) => entry.ref);
    this.denies = new Int32Array(compiled.length);
    this.allows = new Int32Array(compiled.length);
  }

  evaluate(input: EvaluationInput): PolicyDecision {
    const agent = input.agent;
    const ancestors = agent.ancestor_ids;
    if (this.rootAgentId !== null && (ancestors.length > 0 ? ancestors[0] : agent.id) !== this.rootAgentId) {
      throw new Error('policy evaluation for an agent outside the compiled tree');
    }
    if (!agent.active) return AGENT_INACTIVE;

    const context = input.context ?? NO_CONTEXT;
    this.action = input.action;
    this.actionPrefix = isWildcard(input.action) ? input.action.slice(0, -1) : null;
    if (this.actionPrefix === null) {
      this.actionFirstSegment = firstSegment(input.action);
      this.actionLastSegment = lastSegment(input.action);
    }
    this.resource = input.resource ?? '*';
    this.resourcePrefix = this.resource.endsWith('*') ? this.resource.slice(0, -1) : null;
    this.covered = coveredBy(input.action, agent.allowed_scopes);
    this.ipKnown = typeof context.ip === 'string' && parseIp(context.ip, this.ip);
    this.timeMs = context.time instanceof Date ? context.time.getTime() : Number.NaN;
    const depth = context.delegation_depth;
    this.depth = depth === undefined ? 0 : typeof depth === 'number' && depth >= 0 ? depth : Number.NaN;
    this.ancestors = ancestors;
    this.agentId = agent.id;
    this.visit++;
    this.denyCount = 0;
    this.allowCount = 0;

    this.collect(this.denyIndex, agent);
    if (this.denyCount > 0) return this.decide('deny', 'explicit_deny', this.denies, this.denyCount);
    if (!this.covered) return DEFAULT_DENY;
    this.collect(this.allowIndex, agent);
    if (this.allowCount > 0) return this.decide('allow', 'explicit_allow', this.allows, this.allowCount);
    return SCOPE_GRANT;
  }

  /** Visits every candidate of `index` that names the agent (by id, ancestor, trust level or `*`). */
  private collect(index: SubjectIndex, agent: EvaluationInput['agent']): void {
    const ancestors = agent.ancestor_ids;
    this.scan(index.byAgent.get(agent.id));
    for (let i = 0; i < ancestors.length; i++) this.scan(index.bySubtree.get(ancestors[i]));
    if (ancestors.length === 0 || ancestors[ancestors.length - 1] !== agent.id) {
      this.scan(index.bySubtree.get(agent.id));
    }
    this.scan(index.byTrustLevel.get(agent.trust_level));
    if (index.hasEveryone) this.scan(index.everyone);
  }

  private decide(
    decision: 'allow' | 'deny',
    reason: 'explicit_deny' | 'explicit_allow',
    ranks: Int32Array,
    count: number,
  ): PolicyDecision {
    // Ranks are (priority desc, id asc) positions: a native numeric sort puts them in result order.
    if (count > 1) ranks.subarray(0, count).sort();
    const refs = new Array<MatchedPolicy>(count);
    for (let i = 0; i < count; i++) refs[i] = this.refsByRank[ranks[i]];
    return { decision, reason, matched_policies: refs };
  }

  private scan(bucket: Bucket | undefined): void {
    if (bucket === undefined) return;
    if (this.actionPrefix !== null) {
      // An open action can match policies under any literal: look at everything.
      this.consider(bucket.all);
      return;
    }
    const exact = bucket.byAction.get(this.action);
    if (exact !== undefined) this.consider(exact);
    const byFirst = bucket.byFirstSegment.get(this.actionFirstSegment);
    if (byFirst !== undefined) this.consider(byFirst);
    const byLast = bucket.byLastSegment.get(this.actionLastSegment);
    if (byLast !== undefined) this.consider(byLast);
    this.consider(bucket.unkeyed);
  }

  private consider(candidates: readonly CompiledPolicy[]): void {
    for (let i = 0; i < candidates.length; i++) {
      const policy = candidates[i];
      if (policy.visited === this.visit) continue;
      policy.visited = this.visit;
      if (policy.deny) {
        if (this.denyApplies(policy)) this.denies[this.denyCount++] = policy.rank;
      } else if (this.allowApplies(policy)) {
        this.allows[this.allowCount++] = policy.rank;
      }
    }
  }

  /** Is the agent inside the policy owner's subtree? */
  private withinOwner(policy: CompiledPolicy): boolean {
    const owner = policy.ownerId;
    if (owner === null || owner === this.agentId) return true;
    const ancestors = this.ancestors;
    for (let i = 0; i < ancestors.length; i++) if (ancestors[i] === owner) return true;
    return false;
  }

  private denyApplies(policy: CompiledPolicy): boolean {
    if (!this.anyMatch(policy.actions, this.action, this.actionPrefix, 1)) return false;
    if (!this.anyMatch(policy.resources, this.resource, this.resourcePrefix, 0)) return false;
    if (!this.withinOwner(policy)) return false;
    // Unknown context counts as satisfying a deny's condition (fail-closed); NaN compares false.
    if (policy.maxDepth >= 0 && this.depth > policy.maxDepth) return false;
    if (policy.cidrs !== null && this.ipKnown && !policy.cidrs.contains(this.ip)) return false;
    if (policy.window !== null && !Number.isNaN(this.timeMs) && !policy.window.contains(this.timeMs))
      return false;
    return true;
  }

  private allowApplies(policy: CompiledPolicy): boolean {
    // An allow matches an open input only literally (its glob then covers every value the input stands for).
    if (!this.anyMatch(policy.actions, this.action, null, 1)) return false;
    if (!this.anyMatch(policy.resources, this.resource, null, 0)) return false;
    if (!this.withinOwner(policy)) return false;
    // Unknown context makes an allow's condition fail; `!(x <= y)` is true for NaN.
    if (policy.maxDepth >= 0 && !(this.depth <= policy.maxDepth)) return false;
    if (policy.cidrs !== null && (!this.ipKnown || !policy.cidrs.contains(this.ip))) return false;
    if (policy.window !== null && (Number.isNaN(this.timeMs) || !policy.window.contains(this.timeMs)))
      return false;
    return true;
  }

  private anyMatch(
    globs: readonly GlobMatcher[],
    value: string,
    openPrefix: string | null,
    minExtra: 0 | 1,
  ): boolean {
    for (let i = 0; i < globs.length; i++) {
      const glob = globs[i];
      if (openPrefix === null ? glob.matches(value) : glob.matchesSomeExtension(openPrefix, minExtra))
        return true;
    }
    return false;
  }
}

/**
 * Compiles one tree's policies (disabled ones are left out) into an indexed set: candidates are looked up
 * by the agent's id, each of its ancestors (subtree subjects), its trust level and `*`, then by action.
 * Throws `InvalidPolicyError` for a policy that validation should have refused: a tree whose stored
 * policies cannot be compiled gets no decisions at all (fail-closed) rather than decisions without a deny.
 */
export function compilePolicySet(
  policies: readonly PolicyDefinition[],
  options: CompilePolicySetOptions = {},
): CompiledPolicySet {
  return new PolicySet(policies, options);
}

/** One-off evaluation (tests, tools). Services keep a compiled set per tree instead. */
export function evaluatePolicies(
  policies: readonly PolicyDefinition[],
  input: EvaluationInput,
): PolicyDecision {
  return compilePolicySet(policies).evaluate(input);
}
