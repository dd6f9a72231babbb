import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import {
  actingAgentIds,
  APP_CONFIG,
  type AppConfig,
  BadRequestProblem,
  Clock,
  ConflictProblem,
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  ForbiddenProblem,
  NotFoundProblem,
  type Page,
  parseTimestamp,
  type Principal,
  toPage,
  ValidationProblem,
} from '@agentauth/core';
import { type AuditOrigin, AuditService, requestAuditFields } from '@agentauth/audit';
import { ScopeRegistrationHooks, type ScopeRegisteredEvent, ScopeRegistry } from '@agentauth/scope-registry';
import { BUILT_IN_SCOPES, coveredBy, intersect, normalize, uncovered } from '@agentauth/scopes';
import {
  AgentCascadeRegistry,
  type AgentScopeChange,
  cascadeAuditEvents,
  type CascadeRevocation,
} from './agent-cascade.registry';
import { Agent, MAX_AGENT_DEPTH } from './agent.entity';
import {
  assertRateLimitAttenuates,
  chainActivity,
  effectiveRateLimit,
  type InactiveReason,
  resolveChild,
  resolveGovernedChange,
} from './agent-rules';
import { AgentsRepository } from './agents.repository';
import { treeScopeOf } from './tree-visibility';
import type { CreateAgentDto } from './dto/create-agent.dto';
import { GOVERNED_AGENT_FIELDS, type UpdateAgentDto } from './dto/update-agent.dto';
import type { ListAgentsQuery } from './dto/list-agents.query';
import { agentView, type AgentResponse } from './dto/agent.response';
import { redirectUriProblem } from './redirect-uris';

/** CONTRACT §11: every redirect URI must follow `redirect-uris.ts`; 400 naming each offending entry. */
function assertRedirectUris(uris: readonly string[] | undefined): string[] | undefined {
  if (uris === undefined) return undefined;
  const errors = uris
    .map((uri, i) => ({ i, problem: redirectUriProblem(uri) }))
    .filter((e): e is { i: number; problem: string } => e.problem !== null)
    .map(({ i, problem }) => ({ field: `redirect_uris[${i}]`, message: problem }));
  if (errors.length > 0) throw new ValidationProblem('redirect_uris holds a URI that is not allowed', errors);
  return [...new Set(uris)];
}

/** Is an agent able to act right now (CONTRACT §2 "inactive")? */
export interface AgentActivity {
  agent: Agent;
  active: boolean;
  /** Why not, when inactive. */
  reason?: InactiveReason;
  /** Earliest `expires_at` of the agent and its ancestors: no token or credential may outlive it. */
  effectiveExpiresAt: Date | null;
  /** The per-minute rate limit the agent gets: overrides along the chain, else RATE_LIMIT_AGENT_PER_MINUTE. */
  effectiveRateLimitPerMinute: number;
  /** `require_dpop` on the agent or an ancestor (inherited, CONTRACT §10). */
  requiresDpop: boolean;
}

/** A root agent to create (`POST /agents/bootstrap`). */
export interface NewRootAgent {
  name: string;
  description?: string | null;
  version?: string | null;
  capabilities?: string[];
  metadata?: Record<string, unknown>;
  allowedScopes?: string[];
  requireDpop?: boolean;
}

/** What `update` changed, for the audit trail. */
export interface AgentUpdateResult {
  agent: Agent;
  changedFields: string[];
  /** Agents (below the target) whose allowed_scopes a narrowing reached. */
  narrowedDescendants: number;
  suspendedAgentIds: string[];
}

function toDate(value: string | null | undefined): Date | null | undefined {
  if (value === undefined || value === null) return value;
  const date = parseTimestamp(value);
  if (!date)
    throw new ValidationProblem('expires_at is invalid', [
      { field: 'expires_at', message: 'invalid timestamp' },
    ]);
  return date;
}

/**
 * The agent hierarchy (CONTRACT §2, §5). Other contexts use the read API (`findVisible`, `getActivity`,
 * `ancestorIds`, `isInSubtree`, `lockActiveChain`) and plug into changes through `AgentCascadeRegistry`.
 */
@Injectable()
export class AgentsService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly agents: AgentsRepository,
    private readonly cascade: AgentCascadeRegistry,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly scopes: ScopeRegistry,
    private readonly scopeHooks: ScopeRegistrationHooks,
  ) {}

  onModuleInit(): void {
    this.scopeHooks.register('agents', (manager, event) => this.extendRoot(manager, event));
  }

  // ───────────────────────────── read API for other modules ─────────────────────────────

  /**
   * THE visibility check for every `{id}` route and every agent id in a body or query: the agent if it is
   * the caller's authority (`principal.subjectAgentId`, the token's `sub`) or one of its descendants, else
   * `NotFoundProblem('agent')` — exactly what an unknown id gets. Deactivated agents stay visible.
   */
  async findVisible(principal: Principal, id: string): Promise<Agent> {
    const agent = await this.agents.findInSubtree(treeScopeOf(principal.subjectAgentId), id.toLowerCase());
    if (!agent) throw new NotFoundProblem('agent');
    return agent;
  }

  /**
   * Is the agent active right now (it and every ancestor neither suspended, deactivated nor expired)?
   * One indexed query. `null` for an unknown id. Not tenant-scoped: for authentication and token checks.
   */
  async getActivity(agentId: string): Promise<AgentActivity | null> {
    const chain = await this.agents.chainUnscoped(agentId);
    if (chain.length === 0) return null;
    return this.activityOf(chain);
  }

  /**
   * Does any of these agents require DPoP (CONTRACT §10) — its own `require_dpop` or an ancestor's
   * (inherited)? ONE indexed query over the agents' chains.
   */
  async anyRequiresDpop(agentIds: readonly string[]): Promise<boolean> {
    if (agentIds.length === 0) return false;
    return this.agents.anyOnChainsRequiresDpop([...new Set(agentIds)]);
  }

  /** Strict ancestors of the agent, root first (`[]` for a root or an unknown id). */
  async ancestorIds(agentId: string): Promise<string[]> {
    const chain = await this.agents.chainUnscoped(agentId);
    return chain.slice(0, -1).map((a) => a.id);
  }

  /**
   * An agent visible to the principal (in its subtree, else 404 exactly like an unknown id) with its
   * activity and its strict ancestors (root first), from ONE indexed query: the agent's chain, which
   * contains the principal's agent exactly when the agent lies in its subtree.
   */
  async findVisibleActivity(
    principal: Principal,
    id: string,
  ): Promise<AgentActivity & { ancestorIds: string[] }> {
    const chain = await this.agents.chainUnscoped(id.toLowerCase());
    if (!chain.some((agent) => agent.id === principal.subjectAgentId)) throw new NotFoundProblem('agent');
    return { ...this.activityOf(chain), ancestorIds: chain.slice(0, -1).map((agent) => agent.id) };
  }

  /** Is `agentId` in the subtree of `ancestorId`? An agent is in its own subtree. */
  async isInSubtree(ancestorId: string, agentId: string): Promise<boolean> {
    return this.agents.isInSubtree(treeScopeOf(ancestorId), agentId);
  }

  /**
   * Inside a transaction: locks the agent's chain FOR SHARE (top-down, the order every writer follows) and
   * returns it with its activity. Anything created for the agent inside this transaction cannot miss a
   * concurrent deactivation of an ancestor (which waits, or has committed and is seen here).
   * Throws `ConflictProblem('agent_inactive')` when the agent is inactive, NotFound when unknown.
   */
  async lockActiveChain(
    manager: EntityManager,
    agentId: string,
  ): Promise<AgentActivity & { chain: Agent[] }> {
    const chain = await this.agents.chainUnscoped(agentId, { manager, lock: 'share' });
    if (chain.length === 0) throw new NotFoundProblem('agent');
    const activity = this.activityOf(chain);
    if (!activity.active) {
      throw new ConflictProblem(`The agent is inactive (${activity.reason})`, 'agent_inactive');
    }
    return { ...activity, chain };
  }

  /** Activity, expiry and rate limit of the last agent of `chain` (root first), from that one read. */
  private activityOf(chain: Agent[]): AgentActivity {
    return {
      agent: chain[chain.length - 1],
      ...chainActivity(chain, this.clock.now()),
      effectiveRateLimitPerMinute: effectiveRateLimit(chain, this.config.rateLimitAgentPerMinute),
      requiresDpop: chain.some((agent) => agent.requireDpop),
    };
  }

  // ───────────────────────────── operations ─────────────────────────────

  /** A new root agent (trust anchor of a new tree), inside the caller's transaction. */
  async createRoot(manager: EntityManager, input: NewRootAgent): Promise<Agent> {
    const allowedScopes = normalize(input.allowedScopes ?? [...BUILT_IN_SCOPES]);
    const notBuiltIn = uncovered(allowedScopes, BUILT_IN_SCOPES);
    if (notBuiltIn.length > 0) {
      throw new ValidationProblem('A root agent starts with built-in scopes only', [
        { field: 'allowed_scopes', message: `not built-in scopes: ${notBuiltIn.join(' ')}` },
      ]);
    }
    const id = randomUUID();
    const now = this.clock.now();
    const agent = Object.assign(new Agent(), {
      id,
      name: input.name,
      description: input.description ?? null,
      version: input.version ?? null,
      capabilities: input.capabilities ?? [],
      parentAgentId: null,
      rootAgentId: id,
      trustLevel: 'root',
      status: 'active',
      allowedScopes,
      metadata: input.metadata ?? {},
      depth: 0,
      path: `${id}/`,
      expiresAt: null,
      rateLimitPerMinute: null,
      requireDpop: input.requireDpop ?? false,
      // A root authenticates with its first credential: always a confidential client.
      clientType: 'confidential',
      redirectUris: [],
      createdAt: now,
      updatedAt: now,
    } satisfies Agent);
    await this.agents.insert(manager, agent);
    return agent;
  }

  /** `POST /agents`: a child of the caller or of an agent of its subtree. */
  async create(principal: Principal, dto: CreateAgentDto): Promise<Agent> {
    if (dto.allowed_scopes) {
      await this.scopes.assertRegistered(principal.rootAgentId, dto.allowed_scopes, 'allowed_scopes');
    }
    const parentId = dto.parent_agent_id
      ? (await this.findVisible(principal, dto.parent_agent_id)).id
      : principal.subjectAgentId;
    const expiresAt = toDate(dto.expires_at);
    const redirectUris = assertRedirectUris(dto.redirect_uris) ?? [];
    return this.dataSource.transaction(async (manager) => {
      const {
        agent: parent,
        effectiveExpiresAt,
        effectiveRateLimitPerMinute,
      } = await this.lockActiveChain(manager, parentId);
      if (parent.depth + 1 > MAX_AGENT_DEPTH) {
        throw new BadRequestProblem(
          `The hierarchy is at most ${MAX_AGENT_DEPTH} levels deep`,
          'max_depth_exceeded',
        );
      }
      const now = this.clock.now();
      const child = resolveChild(
        parent,
        effectiveExpiresAt,
        {
          trustLevel: dto.trust_level,
          allowedScopes: dto.allowed_scopes,
          expiresAt,
          rateLimitPerMinute: dto.rate_limit_per_minute,
        },
        principal.scopes,
        {
          now,
          maxEphemeralLifetimeSeconds: this.config.maxEphemeralLifetimeSeconds,
          parentRateLimitPerMinute: effectiveRateLimitPerMinute,
        },
      );
      const id = randomUUID();
      const agent = Object.assign(new Agent(), {
        id,
        name: dto.name,
        description: dto.description ?? null,
        version: dto.version ?? null,
        capabilities: dto.capabilities ?? [],
        parentAgentId: parent.id,
        rootAgentId: parent.rootAgentId,
        trustLevel: child.trustLevel,
        status: 'active',
        allowedScopes: child.allowedScopes,
        metadata: dto.metadata ?? {},
        depth: parent.depth + 1,
        path: `${parent.path}${id}/`,
        expiresAt: child.expiresAt,
        rateLimitPerMinute: child.rateLimitPerMinute,
        requireDpop: dto.require_dpop ?? false,
        clientType: dto.client_type ?? 'confidential',
        redirectUris,
        createdAt: now,
        updatedAt: now,
      } satisfies Agent);
      await this.agents.insert(manager, agent);
      return agent;
    });
  }

  /** `GET /agents`: the caller's subtree (itself included), filtered, keyset-paginated. */
  async list(principal: Principal, query: ListAgentsQuery): Promise<Page<AgentResponse>> {
    const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
    const parentAgentId = query.parent_agent_id
      ? (await this.findVisible(principal, query.parent_agent_id)).id
      : undefined;
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.agents.listSubtree(
      treeScopeOf(principal.subjectAgentId),
      { status: query.status, trustLevel: query.trust_level, parentAgentId },
      after,
      limit,
    );
    return toPage(rows, limit, agentView);
  }

  /**
   * `PATCH /agents/{id}`. Descriptive fields: the agent itself or an ancestor. `allowed_scopes`,
   * `expires_at`, `status`: strict ancestors only. Everything is checked before anything is written; the
   * change and its cascades (narrowing, expiry clamp, suspension hooks) commit in one transaction.
   */
  async update(principal: Principal, id: string, dto: UpdateAgentDto): Promise<AgentUpdateResult> {
    const fields = Object.keys(dto).filter((k) => (dto as Record<string, unknown>)[k] !== undefined);
    if (fields.length === 0) throw new ValidationProblem('Nothing to update', []);
    const target = await this.findVisible(principal, id);
    if (dto.allowed_scopes) {
      await this.scopes.assertRegistered(target.rootAgentId, dto.allowed_scopes, 'allowed_scopes');
    }
    const governed = GOVERNED_AGENT_FIELDS.filter((f) => dto[f] !== undefined);
    if (governed.length > 0) {
      await this.assertGoverns(
        principal,
        target,
        `Only a strict ancestor may change ${governed.join(', ')}; an agent edits its own descriptive fields only`,
      );
    }
    const expiresAt = toDate(dto.expires_at);
    const redirectUris = assertRedirectUris(dto.redirect_uris);
    return this.dataSource.transaction(async (manager) => {
      const now = this.clock.now();
      const { parentChain, current } = await this.lockChangeable(manager, target);
      const patch: Partial<Agent> = { updatedAt: now };
      if (dto.name !== undefined) patch.name = dto.name;
      if (dto.description !== undefined) patch.description = dto.description;
      if (dto.version !== undefined) patch.version = dto.version;
      if (dto.capabilities !== undefined) patch.capabilities = dto.capabilities;
      if (dto.metadata !== undefined) patch.metadata = dto.metadata;

      let narrowed: AgentScopeChange[] = [];
      let suspendedAgentIds: string[] = [];
      if (governed.length > 0) {
        const parent = parentChain[parentChain.length - 1];
        if (!parent)
          throw new ForbiddenProblem('A root agent has no ancestor to govern it', 'not_strict_ancestor');
        const parentActivity = this.activityOf(parentChain);
        const change = resolveGovernedChange(
          current,
          parent,
          parentActivity.effectiveExpiresAt,
          {
            allowedScopes: dto.allowed_scopes,
            expiresAt,
            status: dto.status,
            rateLimitPerMinute: dto.rate_limit_per_minute,
          },
          principal.scopes,
          {
            now,
            maxEphemeralLifetimeSeconds: this.config.maxEphemeralLifetimeSeconds,
            parentRateLimitPerMinute: parentActivity.effectiveRateLimitPerMinute,
          },
        );
        if (change.allowedScopes) patch.allowedScopes = change.allowedScopes;
        if (change.expiresAt !== undefined) patch.expiresAt = change.expiresAt;
        if (change.status) patch.status = change.status;
        if (change.rateLimitPerMinute !== undefined) patch.rateLimitPerMinute = change.rateLimitPerMinute;
        if (dto.require_dpop !== undefined) patch.requireDpop = dto.require_dpop;
        const dpopRequirementChanged =
          dto.require_dpop !== undefined && dto.require_dpop !== current.requireDpop;
        if (redirectUris !== undefined) patch.redirectUris = redirectUris;
        if (dto.client_type !== undefined && dto.client_type !== current.clientType) {
          // CONTRACT §11: a public client holds no credentials; its keys would otherwise linger unusable.
          if (dto.client_type === 'public' && (await this.agents.hasActiveCredentials(manager, current.id))) {
            throw new ConflictProblem(
              'A public client holds no credentials: revoke the agent’s credentials first',
              'agent_has_credentials',
            );
          }
          patch.clientType = dto.client_type;
        }
        await this.agents.update(manager, current.id, patch);
        if (dpopRequirementChanged) await this.cascade.dpopRequirementChanged(manager, current.id, now);

        if (change.allowedScopes && change.narrowsScopes) {
          const newScopes = change.allowedScopes;
          const descendants = await this.agents.descendantsForUpdate(manager, current.path);
          const descendantChanges = descendants
            .map((d) => ({
              agentId: d.id,
              before: d.allowedScopes,
              after: intersect(d.allowedScopes, newScopes),
            }))
            .filter((d) => uncovered(d.before, d.after).length > 0)
            .map(({ agentId, after }) => ({ agentId, allowedScopes: after }));
          await this.agents.setScopesInSubtree(manager, current.path, descendantChanges, now);
          narrowed = [{ agentId: current.id, allowedScopes: newScopes }, ...descendantChanges];
          await this.cascade.scopesNarrowed(manager, narrowed, now);
        }
        if (change.expiresAt) {
          await this.agents.clampDescendantExpiry(manager, current.path, change.expiresAt, now);
          if (current.expiresAt === null || change.expiresAt.getTime() < current.expiresAt.getTime()) {
            const affected = await this.agents.activeSubtreeIds(manager, current.path);
            await this.cascade.expiryShortened(manager, affected, change.expiresAt, now);
          }
        }
        if (change.status === 'suspended' && current.status === 'active') {
          suspendedAgentIds = await this.agents.activeSubtreeIds(manager, current.path);
          await this.cascade.suspended(manager, suspendedAgentIds, now);
        }
      } else {
        await this.agents.update(manager, current.id, patch);
      }
      const updated = await this.agents.lockForUpdateUnscoped(manager, current.id);
      return {
        agent: updated ?? current,
        changedFields: fields,
        narrowedDescendants: Math.max(0, narrowed.length - 1),
        suspendedAgentIds,
      };
    });
  }

  /**
   * THE governance check (CONTRACT §2): an agent's governed fields (and its status, deactivation included)
   * change only if EVERY agent acting in the request — the token's `sub`, its `client_id` and each `act`
   * member — is a strict ancestor of the target. Comparing `sub` alone let a delegate holding a token with
   * `sub` = its ancestor rewrite its own (or a sibling's) limits with borrowed authority. 403
   * `not_strict_ancestor` otherwise (the target is visible to the caller: `findVisible` ran first).
   */
  private async assertGoverns(
    principal: Principal,
    target: Pick<Agent, 'id'>,
    detail: string,
  ): Promise<void> {
    const ancestors = new Set(await this.ancestorIds(target.id));
    if (!actingAgentIds(principal).every((id) => ancestors.has(id))) {
      throw new ForbiddenProblem(detail, 'not_strict_ancestor');
    }
  }

  /**
   * Locks an agent for a change inside `manager`'s transaction — lock order: its ancestors FOR SHARE
   * (top-down), then the agent FOR UPDATE (descendants come after) — and refuses a deactivated one.
   */
  private async lockChangeable(
    manager: EntityManager,
    target: Pick<Agent, 'id' | 'parentAgentId'>,
  ): Promise<{ parentChain: Agent[]; current: Agent }> {
    const parentChain = target.parentAgentId
      ? await this.agents.chainUnscoped(target.parentAgentId, { manager, lock: 'share' })
      : [];
    const current = await this.agents.lockForUpdateUnscoped(manager, target.id);
    if (!current) throw new NotFoundProblem('agent');
    if (current.status === 'deactivated') {
      throw new ConflictProblem('A deactivated agent cannot be changed', 'agent_deactivated');
    }
    return { parentChain, current };
  }

  /**
   * `PUT /agents/{id}/rate-limit` (operator, X-Admin-Key): sets any agent's own rate-limit override, or
   * removes it (`null`). The only way a root gets one — a root's value may exceed RATE_LIMIT_AGENT_PER_MINUTE;
   * below a root the value must not exceed the parent's effective limit, for the operator too (the effective
   * limit is the minimum along the chain anyway, so a higher value could never take effect).
   */
  async setRateLimitByOperator(id: string, rateLimitPerMinute: number | null): Promise<Agent> {
    const chain = await this.agents.chainUnscoped(id.toLowerCase());
    if (chain.length === 0) throw new NotFoundProblem('agent');
    const target = chain[chain.length - 1];
    return this.dataSource.transaction(async (manager) => {
      const { parentChain, current } = await this.lockChangeable(manager, target);
      if (parentChain.length > 0) {
        assertRateLimitAttenuates(
          rateLimitPerMinute,
          effectiveRateLimit(parentChain, this.config.rateLimitAgentPerMinute),
        );
      }
      const patch = { rateLimitPerMinute, updatedAt: this.clock.now() };
      await this.agents.update(manager, current.id, patch);
      return Object.assign(current, patch);
    });
  }

  /**
   * `DELETE /agents/{id}`: soft-deletes the agent and its whole subtree in ONE transaction, running every
   * registered `onDeactivated` hook (credentials revoked, …) inside it. Only strict descendants of the
   * caller's authority: an agent never deactivates itself (a root included). Returns the ids this request
   * deactivated, top-down (`[]` when the subtree was already deactivated).
   *
   * Once committed, every key and delegation the cascade revoked gets its own `credential.revoked` /
   * `delegation.revoked` event (cause `agent_deactivated`, with the request's actor, IP and request id);
   * the route's own `agent.deactivated` event follows. Resolves only when they are committed.
   */
  async deactivate(principal: Principal, id: string, origin: AuditOrigin = {}): Promise<string[]> {
    const target = await this.findVisible(principal, id);
    await this.assertGoverns(principal, target, 'An agent cannot deactivate itself; its ancestor can');
    const { ids, revoked } = await this.dataSource.transaction(async (manager) => {
      const now = this.clock.now();
      if (target.parentAgentId)
        await this.agents.chainUnscoped(target.parentAgentId, { manager, lock: 'share' });
      await this.agents.lockForUpdateUnscoped(manager, target.id);
      return this.deactivateSubtree(manager, target, now);
    });
    await this.audit.recordAll(
      cascadeAuditEvents(
        revoked,
        { cause: 'agent_deactivated', cause_agent_id: target.id },
        requestAuditFields(principal, origin),
      ),
    );
    return ids;
  }

  /**
   * Maintenance: deactivates every agent whose `expires_at` has passed, with the usual cascade (its subtree,
   * credentials, delegations, tokens), one subtree per transaction. They already stopped authenticating at
   * that instant; this makes the state explicit and releases what hangs off them. Idempotent.
   *
   * Each expired subtree is recorded once committed: `agent.expired` naming every agent it deactivated, then
   * one `credential.revoked` / `delegation.revoked` per object the cascade revoked (cause `agent_expired`).
   */
  async expireDue(batchSize = 100): Promise<{ expired: number }> {
    let expired = 0;
    for (;;) {
      const now = this.clock.now();
      const due = await this.agents.expiredForMaintenance(now, batchSize);
      if (due.length === 0) return { expired };
      for (const agent of due) {
        const { ids, revoked } = await this.dataSource.transaction(async (manager) => {
          const locked = await this.agents.lockForUpdateUnscoped(manager, agent.id);
          if (!locked || locked.status === 'deactivated') return { ids: [], revoked: [] };
          return this.deactivateSubtree(manager, locked, now);
        });
        expired += ids.length;
        if (ids.length > 0) {
          const rootAgentId = agent.rootAgentId;
          await this.audit.recordAll([
            {
              eventType: 'agent.expired',
              outcome: 'success',
              targetType: 'agent',
              targetId: agent.id,
              rootAgentId,
              details: { deactivated_count: ids.length, deactivated_agent_ids: ids },
            },
            ...cascadeAuditEvents(
              revoked,
              { cause: 'agent_expired', cause_agent_id: agent.id },
              { rootAgentId },
            ),
          ]);
        }
      }
      if (due.length < batchSize) return { expired };
    }
  }

  /** Inside the caller's transaction (the top agent locked): the subtree deactivated, its cascade run. */
  private async deactivateSubtree(
    manager: EntityManager,
    top: Agent,
    at: Date,
  ): Promise<{ ids: string[]; revoked: CascadeRevocation[] }> {
    const ids = await this.agents.deactivateSubtree(manager, top.path, at);
    return { ids, revoked: await this.cascade.deactivated(manager, ids, at) };
  }

  /**
   * A scope was registered in the tree (inside the registering transaction): the root, its trust anchor,
   * holds every scope registered in its tree, so its `allowed_scopes` gain it (docs/policies.md). Nothing
   * below the root changes: descendants get it from their parent as usual.
   */
  private async extendRoot(manager: EntityManager, event: ScopeRegisteredEvent): Promise<void> {
    const root = await this.agents.lockForUpdateUnscoped(manager, event.rootAgentId);
    if (!root || root.status === 'deactivated') return;
    if (coveredBy(event.scope, root.allowedScopes)) return;
    const after = normalize([...root.allowedScopes, event.scope]);
    await this.agents.update(manager, root.id, { allowedScopes: after, updatedAt: event.at });
    await this.cascade.rootScopesExtended(
      manager,
      { agentId: root.id, before: root.allowedScopes, after },
      event.at,
    );
  }
}
