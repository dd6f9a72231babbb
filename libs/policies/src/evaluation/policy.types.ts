/**
 * The evaluator's plain data model (CONTRACT §6). Field names follow the JSON/jsonb shapes (snake_case) so
 * the API layer can hand rows and request bodies over without renaming.
 */

export type PolicyEffect = 'allow' | 'deny';
export const POLICY_EFFECTS: readonly PolicyEffect[] = ['allow', 'deny'];

export type TrustLevel = 'root' | 'delegated' | 'ephemeral';
export const TRUST_LEVELS: readonly TrustLevel[] = ['root', 'delegated', 'ephemeral'];

/** Days of the week, Monday first (ISO 8601); bit `i` of a day mask is `WEEKDAYS[i]`. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/**
 * A wall-clock window in an IANA time zone: `start` inclusive, `end` exclusive (`HH:MM`, 00:00–23:59).
 * `start > end` crosses midnight (22:00–06:00); `start == end` is a full 24 hours starting at `start`.
 * `days` filters on the day the window *started* (so a Friday 22:00–06:00 window covers Saturday 03:00).
 */
export interface TimeWindow {
  start: string;
  end: string;
  timezone: string;
  days?: readonly Weekday[];
}

/** All given conditions must hold for the policy to match. */
export interface PolicyConditions {
  ip_cidrs?: readonly string[];
  time_window?: TimeWindow;
  max_delegation_depth?: number;
}

/** A stored policy, as the evaluator needs it. */
export interface PolicyDefinition {
  id: string;
  name: string;
  effect: PolicyEffect;
  /** Agent ids, `agent:<id>/*` (the agent and its subtree), `trust_level:<level>`, or `*`. */
  subjects: readonly string[];
  /** Globs over the action (a scope name); `*` matches any run of characters, `:` included. */
  actions: readonly string[];
  /** Globs over the resource (an audience at issuance); `*` matches any run of characters. */
  resources: readonly string[];
  conditions?: PolicyConditions | null;
  priority: number;
  enabled: boolean;
  /**
   * The agent whose authority created the policy (the caller's `sub`). The policy never reaches beyond that
   * agent's subtree (CONTRACT §6): `*` means that subtree, and every other subject kind is confined to it.
   * Null/absent = the whole tree the set was compiled for (a policy created by the root).
   */
  owner_agent_id?: string | null;
}

export interface EvaluationAgent {
  /** Lower-case UUID (as PostgreSQL renders `uuid`). */
  id: string;
  trust_level: TrustLevel;
  allowed_scopes: readonly string[];
  /** False when the agent or any ancestor is suspended, deactivated or expired (CONTRACT §2). */
  active: boolean;
  /** The path from the root to the agent: root first, the agent itself last (lower-case UUIDs). */
  ancestor_ids: readonly string[];
}

export interface EvaluationContext {
  /** Client IP (IPv4, IPv6 or IPv4-mapped IPv6). Absent or unparseable = unknown. */
  ip?: string;
  /** The instant being decided. Absent or invalid = unknown (the API passes `clock.now()`). */
  time?: Date;
  /** Length of the delegation chain the request acts through; absent = 0, not a non-negative number = unknown. */
  delegation_depth?: number;
}

export interface EvaluationInput {
  agent: EvaluationAgent;
  /**
   * A scope name. A wildcard (`files:*`) stands for every scope below it: any deny that could match one of
   * them matches (fail-closed), an allow matches only if its glob covers them all.
   */
  action: string;
  /** Default `*`; a trailing `*` stands for every resource with that prefix (same rule as a wildcard action). */
  resource?: string;
  context?: EvaluationContext;
}

export type PolicyDecisionReason =
  'agent_inactive' | 'explicit_deny' | 'default_deny' | 'explicit_allow' | 'scope_grant';

export interface MatchedPolicy {
  readonly id: string;
  readonly name: string;
  readonly effect: PolicyEffect;
}

export interface PolicyDecision {
  readonly decision: 'allow' | 'deny';
  readonly reason: PolicyDecisionReason;
  /**
   * The policies that decided: every matching enabled deny for `explicit_deny`, every matching allow for
   * `explicit_allow`, [] otherwise; ordered by priority (higher first), then id.
   */
  readonly matched_policies: readonly MatchedPolicy[];
}
