import { randomUUID } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AgentsService, treeScopeOf } from '@agentauth/agents';
import { StatsRegistry } from '@agentauth/audit';
import {
  assertDirectAuthority,
  Clock,
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  type FieldError,
  normalizeIp,
  NotFoundProblem,
  type Page,
  type Principal,
  toPage,
  ValidationProblem,
  parseTimestamp,
} from '@agentauth/core';
import type { CreatePolicyDto, UpdatePolicyDto } from './dto/policy-body.dto';
import type { EvaluatePolicyDto } from './dto/evaluate-policy.dto';
import type { ListPoliciesQuery } from './dto/list-policies.query';
import { type PolicyEvaluationResponse, type PolicyResponse, policyView } from './dto/policy.response';
import { normalizePolicySubject, subjectAgentIds } from './evaluation/policy-subject';
import { POLICY_DEFAULTS, validatePolicyInput } from './evaluation/policy-validation';
import type { EvaluationContext, PolicyConditions } from './evaluation/policy.types';
import { PoliciesRepository, type PolicyPatch } from './policies.repository';
import { Policy } from './policy.entity';
import { PolicyDecisionService } from './policy-decision.service';

/** The fields of a body that were sent (class instances may carry `undefined` for absent ones). */
function sentFields(dto: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(dto).filter(([, value]) => value !== undefined));
}

function assertValid(body: Record<string, unknown>, partial: boolean): void {
  const errors = validatePolicyInput(body, { partial });
  if (errors.length > 0) throw new ValidationProblem('The policy is invalid', errors);
}

function normalizeSubjects(subjects: readonly string[]): string[] {
  return [...new Set(subjects.map((s) => normalizePolicySubject(s) as string))];
}

/** What `update` changed, for the audit trail. */
export interface PolicyUpdateResult {
  policy: Policy;
  changedFields: string[];
}

/**
 * The policies API (CONTRACT §6). A policy belongs to the caller's root tree and is owned by the caller's
 * authority (the token's `sub`): it governs at most the owner's subtree, and only the owner or one of its
 * ancestors sees, changes or deletes it (everyone else: 404). Every agent a policy names must lie in the
 * owner's subtree. Each committed change bumps the tree's policy-set version and is announced to every
 * process's `PolicyDecisionService`.
 */
@Injectable()
export class PoliciesService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly policies: PoliciesRepository,
    private readonly agents: AgentsService,
    private readonly decisions: PolicyDecisionService,
    private readonly clock: Clock,
    private readonly stats: StatsRegistry,
  ) {}

  onModuleInit(): void {
    this.stats.register({
      name: 'policies',
      collect: async () => ({ total: await this.policies.countAll() }),
    });
  }

  /** THE visibility check for a policy id: owned by the caller's authority or a descendant, else 404. */
  async findVisible(principal: Principal, id: string): Promise<Policy> {
    const policy = await this.policies.findVisible(
      treeScopeOf(principal.subjectAgentId),
      principal.rootAgentId,
      id.toLowerCase(),
    );
    if (!policy) throw new NotFoundProblem('policy');
    return policy;
  }

  /** `POST /policies`. */
  async create(principal: Principal, dto: CreatePolicyDto): Promise<Policy> {
    assertDirectAuthority(principal, 'create, change or delete policies');
    const body = sentFields(dto);
    assertValid(body, false);
    const subjects = normalizeSubjects(dto.subjects);
    await this.assertSubjectsWithin(principal, principal.subjectAgentId, subjects);
    const now = this.clock.now();
    const policy = Object.assign(new Policy(), {
      id: randomUUID(),
      rootAgentId: principal.rootAgentId,
      ownerAgentId: principal.subjectAgentId,
      name: dto.name,
      description: dto.description ?? null,
      effect: dto.effect,
      subjects,
      actions: [...new Set(dto.actions)],
      resources: [...new Set(dto.resources ?? POLICY_DEFAULTS.resources)],
      conditions: (dto.conditions ?? POLICY_DEFAULTS.conditions) as PolicyConditions,
      priority: dto.priority ?? POLICY_DEFAULTS.priority,
      enabled: dto.enabled ?? POLICY_DEFAULTS.enabled,
      version: 1,
      createdAt: now,
      updatedAt: now,
    } satisfies Policy);
    await this.dataSource.transaction(async (manager) => {
      await this.policies.insert(manager, policy);
      await this.policies.bumpVersion(manager, policy.rootAgentId, now);
    });
    await this.decisions.announceChange(policy.rootAgentId);
    return policy;
  }

  /** `GET /policies`: the policies owned in the caller's subtree, filtered, keyset-paginated. */
  async list(principal: Principal, query: ListPoliciesQuery): Promise<Page<PolicyResponse>> {
    const after = query.cursor !== undefined ? decodeCursor(query.cursor) : undefined;
    const ownerAgentId = query.owner_agent_id
      ? (await this.agents.findVisible(principal, query.owner_agent_id)).id
      : undefined;
    let subject: string | undefined;
    if (query.subject !== undefined) {
      const normalized = normalizePolicySubject(query.subject);
      if (!normalized) {
        throw new ValidationProblem('The subject filter is invalid', [
          { field: 'subject', message: 'must be an agent id, agent:<id>/*, trust_level:<level>, or *' },
        ]);
      }
      subject = normalized;
    }
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.policies.listVisible(
      treeScopeOf(principal.subjectAgentId),
      principal.rootAgentId,
      {
        effect: query.effect,
        enabled: query.enabled === undefined ? undefined : query.enabled === 'true',
        ownerAgentId,
        subject,
      },
      after,
      limit,
    );
    return toPage(rows, limit, policyView);
  }

  /**
   * `PATCH /policies/{id}`: each given field replaces the stored one (`conditions` as a whole; null clears
   * it). The owner stays the same, so new subjects must lie in the owner's subtree.
   */
  async update(principal: Principal, id: string, dto: UpdatePolicyDto): Promise<PolicyUpdateResult> {
    const body = sentFields(dto);
    const fields = Object.keys(body);
    if (fields.length === 0) throw new ValidationProblem('Nothing to update', []);
    assertDirectAuthority(principal, 'create, change or delete policies');
    assertValid(body, true);
    const current = await this.findVisible(principal, id);
    const patch: PolicyPatch = {};
    if (dto.name !== undefined) patch.name = dto.name;
    if (dto.description !== undefined) patch.description = dto.description;
    if (dto.effect !== undefined) patch.effect = dto.effect;
    if (dto.subjects !== undefined) {
      patch.subjects = normalizeSubjects(dto.subjects);
      await this.assertSubjectsWithin(principal, current.ownerAgentId, patch.subjects);
    }
    if (dto.actions !== undefined) patch.actions = [...new Set(dto.actions)];
    if (dto.resources !== undefined) patch.resources = [...new Set(dto.resources)];
    if (dto.conditions !== undefined) patch.conditions = dto.conditions ?? {};
    if (dto.priority !== undefined) patch.priority = dto.priority;
    if (dto.enabled !== undefined) patch.enabled = dto.enabled;
    const now = this.clock.now();
    const updated = await this.dataSource.transaction(async (manager) => {
      const row = await this.policies.update(manager, current.rootAgentId, current.id, patch, now);
      if (!row) throw new NotFoundProblem('policy');
      await this.policies.bumpVersion(manager, current.rootAgentId, now);
      return row;
    });
    await this.decisions.announceChange(current.rootAgentId);
    return { policy: updated, changedFields: fields };
  }

  /** `DELETE /policies/{id}`. */
  async delete(principal: Principal, id: string): Promise<Policy> {
    assertDirectAuthority(principal, 'create, change or delete policies');
    const current = await this.findVisible(principal, id);
    const now = this.clock.now();
    await this.dataSource.transaction(async (manager) => {
      if (!(await this.policies.delete(manager, current.rootAgentId, current.id))) {
        throw new NotFoundProblem('policy');
      }
      await this.policies.bumpVersion(manager, current.rootAgentId, now);
    });
    await this.decisions.announceChange(current.rootAgentId);
    return current;
  }

  /**
   * `POST /policies/evaluate`: the decision for an agent of the caller's subtree, through the same
   * `PolicyDecisionService` issuance uses. `context.time` defaults to now; an absent `context.ip` is unknown
   * (the caller's own address says nothing about the agent's).
   */
  async evaluate(principal: Principal, dto: EvaluatePolicyDto): Promise<PolicyEvaluationResponse> {
    const activity = await this.agents.findVisibleActivity(principal, dto.agent_id);
    const resource = dto.resource ?? '*';
    const context: EvaluationContext = {
      ip: dto.context?.ip !== undefined ? normalizeIp(dto.context.ip) : undefined,
      time: dto.context?.time !== undefined ? parseTimestamp(dto.context.time) : this.clock.now(),
      delegation_depth: dto.context?.delegation_depth ?? 0,
    };
    const decision = await this.decisions.evaluate({
      agent: {
        id: activity.agent.id,
        trust_level: activity.agent.trustLevel,
        allowed_scopes: activity.agent.allowedScopes,
        active: activity.active,
        ancestor_ids: [...activity.ancestorIds, activity.agent.id],
      },
      action: dto.action,
      resource,
      context,
    });
    return {
      decision: decision.decision,
      reason: decision.reason,
      matched_policies: decision.matched_policies.map((m) => ({ id: m.id, name: m.name, effect: m.effect })),
      agent_id: activity.agent.id,
      action: dto.action,
      resource,
    };
  }

  /**
   * Every agent a subject list names must be visible to the caller (else 404, exactly as an unknown id:
   * another tree's agent, an ancestor or a sibling branch) and lie in the owner's subtree (400 otherwise:
   * the policy could never reach it).
   */
  private async assertSubjectsWithin(
    principal: Principal,
    ownerAgentId: string,
    subjects: string[],
  ): Promise<void> {
    const errors: FieldError[] = [];
    for (const agentId of subjectAgentIds(subjects)) {
      const agent = await this.agents.findVisible(principal, agentId);
      if (agent.id !== ownerAgentId && !(await this.agents.isInSubtree(ownerAgentId, agent.id))) {
        errors.push({ field: 'subjects', message: `${agent.id} is outside the policy owner's subtree` });
      }
    }
    if (errors.length > 0)
      throw new ValidationProblem("A subject is outside the policy owner's subtree", errors);
  }
}
