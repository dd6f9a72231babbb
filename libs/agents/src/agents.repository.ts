import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { DriverUtils } from 'typeorm/driver/DriverUtils';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { Agent, type AgentStatus, type TrustLevel } from './agent.entity';
import { idsOnPath, pathUnder, restrictToSubtree, type TreeScope, treeScopeOf } from './tree-visibility';
import { fetchKeysetPage, type Keyset } from '@agentauth/core';

export interface AgentListFilter {
  status?: AgentStatus;
  trustLevel?: TrustLevel;
  parentAgentId?: string;
}

/** A read whose SQL is built once: the statement, its parameters' order, and the row → entity mapping. */
interface PreparedRead {
  text: string;
  order: ('subject' | 'id')[];
  hydrate: (row: Record<string, unknown>) => Agent;
}

/**
 * Every query of the agents table. Tenant reads take a `TreeScope` (tree-visibility.ts), which bounds them;
 * the system-level reads say so in their name (`…Unscoped`: authentication, and writes that already checked
 * visibility) or work on a subtree's path read from a row the caller already holds (cascades). Every subtree
 * and ancestry SQL text comes from tree-visibility.ts.
 */
@Injectable()
export class AgentsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private qb(manager?: EntityManager): SelectQueryBuilder<Agent> {
    return (manager ?? this.dataSource.manager).getRepository(Agent).createQueryBuilder('a');
  }

  /**
   * `id` if it lies in `scope` (the subject's subtree, itself included), else null. The hot read behind every
   * `GET /agents/{id}`: its SQL is built by the query builder once (the same statement as before) and each
   * call only sends it and maps the row — building the query and hydrating through TypeORM were ~9 % of a
   * Bearer read's CPU (docs/performance.md, "Cost ledger").
   */
  async findInSubtree(scope: TreeScope, id: string): Promise<Agent | null> {
    const statement = (this.findInSubtreeStatement ??= this.prepareFindInSubtree());
    const rows = await this.dataSource.query<Record<string, unknown>[]>(
      statement.text,
      statement.order.map((name) => (name === 'subject' ? scope.agentId : id)),
    );
    return rows.length > 0 ? statement.hydrate(rows[0]) : null;
  }

  private findInSubtreeStatement?: PreparedRead;

  private prepareFindInSubtree(): PreparedRead {
    const subject = '00000000-0000-4000-8000-00000000005a';
    const target = '00000000-0000-4000-8000-0000000000a1';
    const [text, parameters] = restrictToSubtree(this.qb(), 'a', treeScopeOf(subject))
      .where('a.id = :id', { id: target })
      .getQueryAndParameters();
    const order = parameters.map((value) => {
      if (value === subject) return 'subject' as const;
      if (value === target) return 'id' as const;
      throw new Error('findInSubtree: unexpected query parameter');
    });
    const metadata = this.dataSource.getMetadata(Agent);
    const driver = this.dataSource.driver;
    const columns = metadata.columns.map((column) => ({
      column,
      alias: DriverUtils.buildAlias(driver, undefined, 'a', column.databaseName),
    }));
    return {
      text,
      order,
      hydrate: (row) => {
        const agent = metadata.create() as Agent;
        for (const { column, alias } of columns) {
          column.setEntityValue(agent, driver.prepareHydratedValue(row[alias], column));
        }
        return agent;
      },
    };
  }

  /** Is `agentId` in `scope` (the subtree of its agent, itself included)? One query. */
  async isInSubtree(scope: TreeScope, agentId: string): Promise<boolean> {
    const count = await restrictToSubtree(this.qb(), 'a', scope)
      .where('a.id = :agentId', { agentId })
      .getCount();
    return count > 0;
  }

  /**
   * The agent and its ancestors, root first, in ONE query: the ancestor ids are read from the agent's own
   * materialized path and fetched by primary key. `lock: 'share'` takes FOR SHARE row locks top-down (the
   * lock order every writer follows), so a concurrent deactivation/narrowing of an ancestor waits for us
   * or we see its result. Unscoped: authentication, and writes that already checked visibility.
   */
  async chainUnscoped(
    agentId: string,
    options: { manager?: EntityManager; lock?: 'share' } = {},
  ): Promise<Agent[]> {
    const qb = this.qb(options.manager)
      .innerJoin('agents', 'target', `target.id = :agentId AND a.id = ANY(${idsOnPath('target')})`, {
        agentId,
      })
      .orderBy('a.depth', 'ASC');
    if (options.lock === 'share') qb.setLock('pessimistic_read', undefined, ['a']);
    return qb.getMany();
  }

  /** Is `require_dpop` set on any agent of these agents' chains (each agent and its ancestors)? */
  async anyOnChainsRequiresDpop(agentIds: string[]): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM agents t
       JOIN agents a ON a.id = ANY(${idsOnPath('t')})
       WHERE t.id = ANY($1::uuid[]) AND a.require_dpop
       LIMIT 1`,
      [agentIds],
    );
    return rows.length > 0;
  }

  /** Locks one agent FOR UPDATE. Unscoped: for writes that already checked visibility, and cascades. */
  async lockForUpdateUnscoped(manager: EntityManager, id: string): Promise<Agent | null> {
    return this.qb(manager).where('a.id = :id', { id }).setLock('pessimistic_write').getOne();
  }

  /** One page of `scope` (the subject's subtree) in (created_at, id) order. Fetches `limit + 1` rows. */
  async listSubtree(
    scope: TreeScope,
    filter: AgentListFilter,
    after: Keyset | undefined,
    limit: number,
  ): Promise<Agent[]> {
    const qb = restrictToSubtree(this.qb(), 'a', scope);
    if (filter.status) qb.andWhere('a.status = :status', { status: filter.status });
    if (filter.trustLevel) qb.andWhere('a.trust_level = :trustLevel', { trustLevel: filter.trustLevel });
    if (filter.parentAgentId)
      qb.andWhere('a.parent_agent_id = :parentId', { parentId: filter.parentAgentId });
    return fetchKeysetPage(qb, after, limit);
  }

  async insert(manager: EntityManager, agent: Agent): Promise<void> {
    await manager.getRepository(Agent).insert(agent as QueryDeepPartialEntity<Agent>);
  }

  /**
   * Does the agent hold an active credential (API key or public key)? Read here, in the agent's locking
   * transaction, because the agents context sits below credentials: switching an agent to a public client
   * (CONTRACT §11) needs it to hold none.
   */
  async hasActiveCredentials(manager: EntityManager, agentId: string): Promise<boolean> {
    const rows = await manager.query<unknown[]>(
      `SELECT 1 FROM credentials WHERE agent_id = $1 AND status = 'active' LIMIT 1`,
      [agentId],
    );
    return rows.length > 0;
  }

  async update(manager: EntityManager, id: string, fields: Partial<Agent>): Promise<void> {
    await manager.getRepository(Agent).update({ id }, fields as QueryDeepPartialEntity<Agent>);
  }

  /** The strict descendants of the agent at `path`, locked FOR UPDATE. */
  async descendantsForUpdate(
    manager: EntityManager,
    path: string,
  ): Promise<Pick<Agent, 'id' | 'allowedScopes'>[]> {
    const rows: { id: string; allowed_scopes: string[] }[] = await manager.query(
      `SELECT id, allowed_scopes FROM agents
       WHERE ${pathUnder('path', '$1', { strict: true })} AND status <> 'deactivated'
       ORDER BY depth FOR UPDATE`,
      [path],
    );
    return rows.map((r) => ({ id: r.id, allowedScopes: r.allowed_scopes }));
  }

  /** Sets each listed descendant's `allowed_scopes` in ONE statement, bounded to the subtree at `path`. */
  async setScopesInSubtree(
    manager: EntityManager,
    path: string,
    changes: { agentId: string; allowedScopes: string[] }[],
    at: Date,
  ): Promise<void> {
    if (changes.length === 0) return;
    await manager.query(
      `UPDATE agents a SET allowed_scopes = v.scopes, updated_at = $3
       FROM jsonb_to_recordset($2::jsonb) AS v(id uuid, scopes text[])
       WHERE a.id = v.id AND ${pathUnder('a.path', '$1', { strict: true })}`,
      [path, JSON.stringify(changes.map((c) => ({ id: c.agentId, scopes: c.allowedScopes }))), at],
    );
  }

  /** Nothing below the agent at `path` may outlive `expiresAt`: later (or absent) expiries are pulled in. */
  async clampDescendantExpiry(
    manager: EntityManager,
    path: string,
    expiresAt: Date,
    at: Date,
  ): Promise<void> {
    await manager.query(
      `UPDATE agents SET expires_at = $2, updated_at = $3
       WHERE ${pathUnder('path', '$1', { strict: true })} AND status <> 'deactivated'
         AND (expires_at IS NULL OR expires_at > $2)`,
      [path, expiresAt, at],
    );
  }

  /** Ids of the not-deactivated agents of the subtree at `path` (itself included), top-down. */
  async activeSubtreeIds(manager: EntityManager, path: string): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM agents WHERE ${pathUnder('path', '$1')} AND status <> 'deactivated' ORDER BY depth, id`,
      [path],
    );
    return rows.map((r) => r.id);
  }

  /**
   * `GET /stats` (operators' view across every tree, not tenant data): how many agents have each
   * (status, trust level) pair, in ONE aggregate query. Pairs without agents are absent.
   */
  async countByStatusAndTrustLevel(): Promise<
    { status: AgentStatus; trustLevel: TrustLevel; count: number }[]
  > {
    const rows: { status: AgentStatus; trust_level: TrustLevel; n: string }[] = await this.dataSource.query(
      `SELECT status, trust_level, count(*)::text AS n FROM agents GROUP BY status, trust_level`,
    );
    return rows.map((r) => ({ status: r.status, trustLevel: r.trust_level, count: Number(r.n) }));
  }

  /** Top-most agents whose own `expires_at` has passed and that are not deactivated yet (maintenance). */
  async expiredForMaintenance(now: Date, limit: number): Promise<Agent[]> {
    return this.dataSource
      .getRepository(Agent)
      .createQueryBuilder('a')
      .where('a.expires_at <= :now', { now })
      .andWhere("a.status <> 'deactivated'")
      .orderBy('a.depth', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** Deactivates the whole subtree at `path` in ONE statement; the ids it changed, top-down. */
  async deactivateSubtree(manager: EntityManager, path: string, at: Date): Promise<string[]> {
    // TypeORM's postgres driver answers an UPDATE … RETURNING with [rows, rowCount].
    const [rows]: [{ id: string; depth: number }[], number] = await manager.query(
      `UPDATE agents SET status = 'deactivated', updated_at = $2
       WHERE ${pathUnder('path', '$1')} AND status <> 'deactivated'
       RETURNING id, depth`,
      [path, at],
    );
    return rows.sort((x, y) => x.depth - y.depth || x.id.localeCompare(y.id)).map((r) => r.id);
  }
}
