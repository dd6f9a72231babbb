import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { Keyset } from '@agentauth/core';
import { Scope } from './scope.entity';
import { fetchKeysetPage } from '@agentauth/core';

/**
 * Every query of the scopes table. Tenant reads take the tree (`rootAgentId`): a tree sees the global
 * (built-in) scopes and its own, never another tree's.
 */
@Injectable()
export class ScopesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The names of the global scopes. */
  async globalNames(): Promise<string[]> {
    const rows: { name: string }[] = await this.dataSource.query(
      `SELECT name FROM scopes WHERE root_agent_id IS NULL`,
    );
    return rows.map((r) => r.name);
  }

  /** The names of one tree's custom scopes. */
  async treeNames(rootAgentId: string): Promise<string[]> {
    const rows: { name: string }[] = await this.dataSource.query(
      `SELECT name FROM scopes WHERE root_agent_id = $1`,
      [rootAgentId],
    );
    return rows.map((r) => r.name);
  }

  /** Descriptions of the named scopes visible to the tree (built-ins and its own), by name. */
  async descriptions(rootAgentId: string, names: readonly string[]): Promise<Map<string, string | null>> {
    const rows = await this.dataSource.query<{ name: string; description: string | null }[]>(
      `SELECT name, description FROM scopes
        WHERE (root_agent_id IS NULL OR root_agent_id = $1) AND name = ANY($2::text[])`,
      [rootAgentId, [...names]],
    );
    return new Map(rows.map((r) => [r.name, r.description]));
  }

  /** One page of the globals and the tree's own scopes, in (created_at, id) order. Fetches `limit + 1`. */
  async listVisible(rootAgentId: string, after: Keyset | undefined, limit: number): Promise<Scope[]> {
    const qb = this.dataSource
      .getRepository(Scope)
      .createQueryBuilder('s')
      .where('(s.root_agent_id IS NULL OR s.root_agent_id = :rootAgentId)', { rootAgentId });
    return fetchKeysetPage(qb, after, limit);
  }

  /** Serializes the registrations of one tree (the per-tree limit is counted under it). */
  async lockTree(manager: EntityManager, rootAgentId: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('scopes:' || $1, 0))`, [rootAgentId]);
  }

  async countInTree(manager: EntityManager, rootAgentId: string): Promise<number> {
    const rows: { n: number }[] = await manager.query(
      `SELECT count(*)::int AS n FROM scopes WHERE root_agent_id = $1`,
      [rootAgentId],
    );
    return rows[0]?.n ?? 0;
  }

  /** Inserts one custom scope; a duplicate raises the unique violation (the caller maps it to 409). */
  async insert(manager: EntityManager, scope: Scope): Promise<void> {
    await manager.getRepository(Scope).insert(scope);
  }
}
