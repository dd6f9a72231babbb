import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { restrictToSubtree, type TreeScope } from '@agentauth/agents';
import type { Keyset } from '@agentauth/core';
import type { PolicyEffect } from './evaluation/policy.types';
import { Policy } from './policy.entity';
import { fetchKeysetPage } from '@agentauth/core';

export interface PolicyListFilter {
  effect?: PolicyEffect;
  enabled?: boolean;
  ownerAgentId?: string;
  /** A subject in its stored (normalized) spelling. */
  subject?: string;
}

/** The fields an update may set (the version and `updated_at` are set by the statement). */
export type PolicyPatch = Partial<
  Pick<
    Policy,
    | 'name'
    | 'description'
    | 'effect'
    | 'subjects'
    | 'actions'
    | 'resources'
    | 'conditions'
    | 'priority'
    | 'enabled'
  >
>;

/**
 * Every query of the policies tables. Tenant reads take the caller's authority (its `TreeScope`) and tree:
 * a caller sees the policies OWNED by an agent of its subtree (itself included), never an ancestor's or a
 * sibling's, never another tree's. `loadTree`/`setVersion` serve the decision cache (system reads of one tree).
 */
@Injectable()
export class PoliciesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private visible(scope: TreeScope, rootAgentId: string): SelectQueryBuilder<Policy> {
    return restrictToSubtree(
      this.dataSource
        .getRepository(Policy)
        .createQueryBuilder('p')
        .innerJoin('agents', 'owner', 'owner.id = p.owner_agent_id'),
      'owner',
      scope,
    ).where('p.root_agent_id = :rootAgentId', { rootAgentId });
  }

  async findVisible(scope: TreeScope, rootAgentId: string, id: string): Promise<Policy | null> {
    return this.visible(scope, rootAgentId).andWhere('p.id = :id', { id }).getOne();
  }

  /** One page in (created_at, id) order. Fetches `limit + 1` rows. */
  async listVisible(
    scope: TreeScope,
    rootAgentId: string,
    filter: PolicyListFilter,
    after: Keyset | undefined,
    limit: number,
  ): Promise<Policy[]> {
    const qb = this.visible(scope, rootAgentId);
    if (filter.effect) qb.andWhere('p.effect = :effect', { effect: filter.effect });
    if (filter.enabled !== undefined) qb.andWhere('p.enabled = :enabled', { enabled: filter.enabled });
    if (filter.ownerAgentId) qb.andWhere('p.owner_agent_id = :ownerId', { ownerId: filter.ownerAgentId });
    if (filter.subject) qb.andWhere(':subject = ANY(p.subjects)', { subject: filter.subject });
    return fetchKeysetPage(qb, after, limit);
  }

  async insert(manager: EntityManager, policy: Policy): Promise<void> {
    await manager.getRepository(Policy).insert(policy);
  }

  /** Applies `patch` to one policy of the tree atomically (version + 1); the new row, or null if gone. */
  async update(
    manager: EntityManager,
    rootAgentId: string,
    id: string,
    patch: PolicyPatch,
    at: Date,
  ): Promise<Policy | null> {
    const result = await manager
      .createQueryBuilder()
      .update(Policy)
      .set({ ...patch, updatedAt: at, version: () => 'version + 1' })
      .where('id = :id AND root_agent_id = :rootAgentId', { id, rootAgentId })
      .returning('id')
      .execute();
    if ((result.affected ?? 0) === 0) return null;
    return manager.getRepository(Policy).findOneBy({ id });
  }

  /** Deletes one policy of the tree; true when it existed. */
  async delete(manager: EntityManager, rootAgentId: string, id: string): Promise<boolean> {
    const [rows]: [{ id: string }[], number] = await manager.query(
      `DELETE FROM policies WHERE id = $1 AND root_agent_id = $2 RETURNING id`,
      [id, rootAgentId],
    );
    return rows.length > 0;
  }

  /** Bumps the tree's policy-set version (inside the changing transaction); the new version. */
  async bumpVersion(manager: EntityManager, rootAgentId: string, at: Date): Promise<number> {
    const rows: { version: string }[] = await manager.query(
      `INSERT INTO policy_set_versions (root_agent_id, version, updated_at) VALUES ($1, 1, $2)
       ON CONFLICT (root_agent_id) DO UPDATE
         SET version = policy_set_versions.version + 1, updated_at = EXCLUDED.updated_at
       RETURNING version`,
      [rootAgentId, at],
    );
    return Number(rows[0].version);
  }

  /** The tree's policy-set version (0 before its first policy change): one primary-key read. */
  async setVersion(rootAgentId: string): Promise<number> {
    const rows: { version: string }[] = await this.dataSource.query(
      `SELECT version FROM policy_set_versions WHERE root_agent_id = $1`,
      [rootAgentId],
    );
    return rows.length > 0 ? Number(rows[0].version) : 0;
  }

  /** The tree's enabled policies and the version they belong to, read from one snapshot. */
  async loadTree(rootAgentId: string): Promise<{ version: number; policies: Policy[] }> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const rows: { version: string }[] = await manager.query(
        `SELECT version FROM policy_set_versions WHERE root_agent_id = $1`,
        [rootAgentId],
      );
      const policies = await manager.getRepository(Policy).find({ where: { rootAgentId, enabled: true } });
      return { version: rows.length > 0 ? Number(rows[0].version) : 0, policies };
    });
  }

  async countAll(): Promise<number> {
    const rows: { n: number }[] = await this.dataSource.query(`SELECT count(*)::int AS n FROM policies`);
    return rows[0]?.n ?? 0;
  }
}
