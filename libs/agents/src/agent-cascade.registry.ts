import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuditEventInput } from '@agentauth/audit';

/** An agent whose `allowed_scopes` were narrowed by a cascade, with its new set. */
export interface AgentScopeChange {
  agentId: string;
  allowedScopes: string[];
}

/** A root whose `allowed_scopes` grew because a scope was registered in its tree. */
export interface RootScopesExtension {
  agentId: string;
  before: string[];
  after: string[];
}

/**
 * One object a deactivation cascade revoked (a key, a delegation). Each becomes its own audit event — and
 * so reaches the webhooks subscribed to its type — recorded after the cascade commits, with the cause
 * (`agent_deactivated`/`agent_expired`, the causing agent) added by `AgentsService` (docs/audit.md
 * "Cascades").
 */
export interface CascadeRevocation {
  /** `credential.revoked`, `delegation.revoked`: the type the direct act on the object records. */
  eventType: string;
  targetType: string;
  targetId: string;
  /** What identifies the object besides its id (e.g. the key's `agent_id`). Never a secret. */
  details?: Record<string, unknown>;
}

/**
 * The audit events of what a cascade revoked: one `success` event per object, its own details plus the
 * `cause` fields (e.g. `{ cause: 'agent_deactivated', cause_agent_id }`), with the causing act's actor, root,
 * IP and request id from `context`. Record them with `AuditService.recordAll` once the cascade committed.
 */
export function cascadeAuditEvents(
  revoked: readonly CascadeRevocation[],
  cause: { cause: string } & Record<string, unknown>,
  context: Pick<AuditEventInput, 'actorAgentId' | 'onBehalfOf' | 'rootAgentId' | 'ip' | 'requestId'>,
): AuditEventInput[] {
  return revoked.map((object) => ({
    ...context,
    eventType: object.eventType,
    outcome: 'success',
    targetType: object.targetType,
    targetId: object.targetId,
    details: { ...object.details, ...cause },
  }));
}

/**
 * What other contexts do when the hierarchy changes. Every hook runs INSIDE the transaction that made the
 * change, with its `EntityManager`, so the change and its consequences commit (or roll back) together.
 * A hook that throws aborts the whole change.
 */
export interface AgentCascadeHooks {
  /**
   * `agentIds`: every agent deactivated by this request (the target and its whole subtree, minus those
   * already deactivated before). They never authenticate again. Returns what it revoked, for the audit
   * trail (nothing to return for state that is not an audited object, e.g. revocation markers).
   */
  onDeactivated?(manager: EntityManager, agentIds: string[], at: Date): Promise<CascadeRevocation[] | void>;
  /**
   * `agentIds`: the suspended agent and every descendant (all inactive now). Re-activation does not revive
   * what was issued before the suspension (CONTRACT §2), so token-like state should be revoked here.
   */
  onSuspended?(manager: EntityManager, agentIds: string[], at: Date): Promise<void>;
  /** Agents whose `allowed_scopes` shrank (the target and the descendants the narrowing reached). */
  onScopesNarrowed?(manager: EntityManager, changes: AgentScopeChange[], at: Date): Promise<void>;
  /**
   * A root now holds a newly registered scope of its tree (docs/policies.md "How custom scopes reach a
   * tree"): e.g. its keys that held everything it held before gain it too.
   */
  onRootScopesExtended?(manager: EntityManager, change: RootScopesExtension, at: Date): Promise<void>;
  /**
   * `agentIds`: the agent whose `expires_at` was moved earlier (or set where there was none) and every
   * not-deactivated descendant (their effective expiry may have moved with it). Anything issued for them
   * under the old, later expiry must not outlive the new one (CONTRACT §2).
   */
  onExpiryShortened?(manager: EntityManager, agentIds: string[], expiresAt: Date, at: Date): Promise<void>;
  /**
   * `agentId`'s `require_dpop` was switched (on or off); it holds for its whole subtree (inherited). What was
   * established about the subtree's clients before (e.g. a verified-key cache entry) no longer holds.
   */
  onDpopRequirementChanged?(manager: EntityManager, agentId: string, at: Date): Promise<void>;
}

/**
 * Where other modules plug into agent lifecycle changes without AgentsModule depending on them (no cycles):
 * register in `onModuleInit`, e.g. `registry.register('credentials', { onDeactivated: … })`.
 */
@Injectable()
export class AgentCascadeRegistry {
  private readonly hooks = new Map<string, AgentCascadeHooks>();

  register(name: string, hooks: AgentCascadeHooks): void {
    if (this.hooks.has(name)) throw new Error(`AgentCascadeRegistry: "${name}" is already registered`);
    this.hooks.set(name, hooks);
  }

  /** The names registered so far (the apps' boot check compares them with what the process needs). */
  registered(): string[] {
    return [...this.hooks.keys()];
  }

  /** Runs every `onDeactivated` hook; what they revoked, in registration order. */
  async deactivated(manager: EntityManager, agentIds: string[], at: Date): Promise<CascadeRevocation[]> {
    const revoked: CascadeRevocation[] = [];
    if (agentIds.length === 0) return revoked;
    for (const hooks of this.hooks.values()) {
      revoked.push(...((await hooks.onDeactivated?.(manager, agentIds, at)) ?? []));
    }
    return revoked;
  }

  async suspended(manager: EntityManager, agentIds: string[], at: Date): Promise<void> {
    if (agentIds.length === 0) return;
    for (const hooks of this.hooks.values()) await hooks.onSuspended?.(manager, agentIds, at);
  }

  async scopesNarrowed(manager: EntityManager, changes: AgentScopeChange[], at: Date): Promise<void> {
    if (changes.length === 0) return;
    for (const hooks of this.hooks.values()) await hooks.onScopesNarrowed?.(manager, changes, at);
  }

  async rootScopesExtended(manager: EntityManager, change: RootScopesExtension, at: Date): Promise<void> {
    for (const hooks of this.hooks.values()) await hooks.onRootScopesExtended?.(manager, change, at);
  }

  async dpopRequirementChanged(manager: EntityManager, agentId: string, at: Date): Promise<void> {
    for (const hooks of this.hooks.values()) await hooks.onDpopRequirementChanged?.(manager, agentId, at);
  }

  async expiryShortened(
    manager: EntityManager,
    agentIds: string[],
    expiresAt: Date,
    at: Date,
  ): Promise<void> {
    if (agentIds.length === 0) return;
    for (const hooks of this.hooks.values())
      await hooks.onExpiryShortened?.(manager, agentIds, expiresAt, at);
  }
}
