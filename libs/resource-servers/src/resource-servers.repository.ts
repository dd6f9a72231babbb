import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { restrictToSubtree, type TreeScope } from '@agentauth/agents';
import { fetchKeysetPage, type Keyset } from '@agentauth/core';
import { ResourceServer } from './resource-server.entity';

/** The fields an update may set (`updated_at` is set by the statement). */
export type ResourceServerPatch = Partial<
  Pick<
    ResourceServer,
    'name' | 'description' | 'scopes' | 'agentId' | 'accessTokenTtlSeconds' | 'dpopRequired'
  >
>;

/**
 * Every query of the `resource_servers` table, each scoped by tree. Management reads take the caller's
 * authority (its `TreeScope`): a caller sees the servers OWNED by an agent of its subtree (itself
 * included), like policies. Issuance reads (`findByIdentifier`, `findById`) take the client's root tree:
 * every agent of the tree may ask for a token for any of its servers.
 */
@Injectable()
export class ResourceServersRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private visible(scope: TreeScope, rootAgentId: string): SelectQueryBuilder<ResourceServer> {
    return restrictToSubtree(
      this.dataSource
        .getRepository(ResourceServer)
        .createQueryBuilder('rs')
        .innerJoin('agents', 'owner', 'owner.id = rs.owner_agent_id'),
      'owner',
      scope,
    ).where('rs.root_agent_id = :rootAgentId', { rootAgentId });
  }

  async findVisible(scope: TreeScope, rootAgentId: string, id: string): Promise<ResourceServer | null> {
    return this.visible(scope, rootAgentId).andWhere('rs.id = :id', { id }).getOne();
  }

  /** One page in (created_at, id) order. Fetches `limit + 1` rows. */
  async listVisible(
    scope: TreeScope,
    rootAgentId: string,
    after: Keyset | undefined,
    limit: number,
  ): Promise<ResourceServer[]> {
    return fetchKeysetPage(this.visible(scope, rootAgentId), after, limit);
  }

  /** The tree's server with this exact identifier (token requests), or null. */
  async findByIdentifier(rootAgentId: string, identifier: string): Promise<ResourceServer | null> {
    return this.dataSource.getRepository(ResourceServer).findOneBy({ rootAgentId, identifier });
  }

  /** The tree's server with this id (a refresh family's server), or null once deleted. */
  async findById(rootAgentId: string, id: string): Promise<ResourceServer | null> {
    return this.dataSource.getRepository(ResourceServer).findOneBy({ rootAgentId, id });
  }

  async insert(manager: EntityManager, server: ResourceServer): Promise<void> {
    await manager.getRepository(ResourceServer).insert(server);
  }

  /** Applies `patch` to one server of the tree; the new row, or null if gone. */
  async update(
    manager: EntityManager,
    rootAgentId: string,
    id: string,
    patch: ResourceServerPatch,
    at: Date,
  ): Promise<ResourceServer | null> {
    const result = await manager
      .createQueryBuilder()
      .update(ResourceServer)
      .set({ ...patch, updatedAt: at })
      .where('id = :id AND root_agent_id = :rootAgentId', { id, rootAgentId })
      .returning('id')
      .execute();
    if ((result.affected ?? 0) === 0) return null;
    return manager.getRepository(ResourceServer).findOneBy({ id });
  }

  /** Deletes one server of the tree; true when it existed. */
  async delete(manager: EntityManager, rootAgentId: string, id: string): Promise<boolean> {
    const [rows]: [{ id: string }[], number] = await manager.query(
      `DELETE FROM resource_servers WHERE id = $1 AND root_agent_id = $2 RETURNING id`,
      [id, rootAgentId],
    );
    return rows.length > 0;
  }

  async countAll(): Promise<number> {
    const rows: { n: number }[] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM resource_servers`,
    );
    return rows[0]?.n ?? 0;
  }
}
