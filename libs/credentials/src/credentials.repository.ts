import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { restrictToSubtree, type TreeScope } from '@agentauth/agents';
import type { CredentialStatsStatus } from './credential-rules';
import { Credential, type CredentialStatus } from './credential.entity';
import { fetchKeysetPage, type Keyset } from '@agentauth/core';

/** A credential the maintenance run marked expired. */
export interface ExpiredCredential {
  id: string;
  agentId: string;
  rootAgentId: string;
  expiresAt: Date;
}

export interface CredentialListFilter {
  agentId?: string;
  status?: CredentialStatus;
}

/**
 * Every query of the credentials table. Tenant reads take a `TreeScope` and go through the owning agent's
 * row restricted to it (the tree-visibility rule of libs/agents); the unscoped reads say so in their name
 * (`…ForAuthentication`, `…Unscoped`) or serve cascades and maintenance by agent ids they were given.
 */
@Injectable()
export class CredentialsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private qb(manager?: EntityManager): SelectQueryBuilder<Credential> {
    return (manager ?? this.dataSource.manager).getRepository(Credential).createQueryBuilder('c');
  }

  private visible(scope: TreeScope): SelectQueryBuilder<Credential> {
    return restrictToSubtree(this.qb().innerJoin('agents', 'owner', 'owner.id = c.agent_id'), 'owner', scope);
  }

  /** Authentication lookup: one unique-index read. */
  async findByPrefixForAuthentication(prefix: string): Promise<Credential | null> {
    return this.qb().where('c.prefix = :prefix', { prefix }).getOne();
  }

  /**
   * Client-assertion lookup: the agent's active public keys (only those with this `kid` when given), newest
   * first. At most a handful of rows through the agent index.
   */
  async activePublicKeysForAuthentication(agentId: string, kid: string | undefined): Promise<Credential[]> {
    const qb = this.qb()
      .where('c.agent_id = :agentId', { agentId })
      .andWhere(`c.type = 'public_key'`)
      .andWhere(`c.status = 'active'`);
    if (kid !== undefined) qb.andWhere('c.kid = :kid', { kid });
    return qb.orderBy('c.created_at', 'DESC').limit(20).getMany();
  }

  /** The credential if its agent is in `scope`, else null. */
  async findVisible(scope: TreeScope, id: string): Promise<Credential | null> {
    return this.visible(scope).andWhere('c.id = :id', { id }).getOne();
  }

  async listVisible(
    scope: TreeScope,
    filter: CredentialListFilter,
    after: Keyset | undefined,
    limit: number,
  ): Promise<Credential[]> {
    const qb = this.visible(scope);
    if (filter.agentId) qb.andWhere('c.agent_id = :agentId', { agentId: filter.agentId });
    if (filter.status) qb.andWhere('c.status = :status', { status: filter.status });
    return fetchKeysetPage(qb, after, limit);
  }

  async insert(manager: EntityManager, credential: Credential): Promise<void> {
    await manager.getRepository(Credential).insert(credential);
  }

  /** Locks one credential FOR UPDATE. Unscoped: for writes that already checked its visibility. */
  async lockForUpdateUnscoped(manager: EntityManager, id: string): Promise<Credential | null> {
    return this.qb(manager).where('c.id = :id', { id }).setLock('pessimistic_write').getOne();
  }

  async markRotated(
    manager: EntityManager,
    id: string,
    rotatedToId: string,
    graceUntil: Date,
  ): Promise<void> {
    await manager.getRepository(Credential).update({ id }, { rotatedToId, graceUntil });
  }

  /**
   * Revokes one credential that is not revoked yet, atomically; true when this call revoked it. An expired
   * key is revoked too, so revoking gives the same result whether or not maintenance marked it already.
   */
  async revoke(manager: EntityManager, id: string, at: Date): Promise<boolean> {
    const [rows]: [{ id: string }[], number] = await manager.query(
      `UPDATE credentials SET status = 'revoked', revoked_at = $2
       WHERE id = $1 AND status IN ('active', 'expired') RETURNING id`,
      [id, at],
    );
    return rows.length > 0;
  }

  /** Revokes every not yet revoked (active or expired) credential of these agents in ONE statement; the keys it revoked. */
  async revokeForAgents(
    manager: EntityManager,
    agentIds: string[],
    at: Date,
  ): Promise<{ id: string; agentId: string }[]> {
    const [rows]: [{ id: string; agent_id: string }[], number] = await manager.query(
      `UPDATE credentials SET status = 'revoked', revoked_at = $2
       WHERE agent_id = ANY($1::uuid[]) AND status IN ('active', 'expired') RETURNING id, agent_id`,
      [agentIds, at],
    );
    return rows.map((r) => ({ id: r.id, agentId: r.agent_id }));
  }

  /**
   * Marks up to `limit` active credentials whose `expires_at` is at or before `now` as `expired`, in ONE
   * statement (rows another transaction holds are left for the next run); what it marked, with the tree
   * each belongs to (for the audit events).
   */
  async markExpired(now: Date, limit: number): Promise<ExpiredCredential[]> {
    // An UPDATE: TypeORM answers [rows, affected count].
    const [rows]: [{ id: string; agent_id: string; root_agent_id: string; expires_at: Date }[], number] =
      await this.dataSource.query(
        `WITH due AS (
           SELECT id FROM credentials
           WHERE status = 'active' AND expires_at IS NOT NULL AND expires_at <= $1
           ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED
         )
         UPDATE credentials c SET status = 'expired'
         FROM due, agents a
         WHERE c.id = due.id AND c.status = 'active' AND a.id = c.agent_id
         RETURNING c.id, c.agent_id, a.root_agent_id, c.expires_at`,
        [now, limit],
      );
    return rows.map((r) => ({
      id: r.id,
      agentId: r.agent_id,
      rootAgentId: r.root_agent_id,
      expiresAt: r.expires_at,
    }));
  }

  /** UNSCOPED (cascades only): the ids of one agent's active credentials, in the caller's transaction. */
  async activeIdsOfAgentUnscoped(manager: EntityManager, agentId: string): Promise<string[]> {
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM credentials WHERE agent_id = $1 AND status = 'active'`,
      [agentId],
    );
    return rows.map((row) => row.id);
  }

  /** Active credentials of these agents, locked FOR UPDATE. */
  async activeForAgentsForUpdate(manager: EntityManager, agentIds: string[]): Promise<Credential[]> {
    return this.qb(manager)
      .where('c.agent_id = ANY(:agentIds)', { agentIds })
      .andWhere(`c.status = 'active'`)
      .orderBy('c.id')
      .setLock('pessimistic_write')
      .getMany();
  }

  /** Sets several credentials' scopes in ONE statement. */
  async setScopes(manager: EntityManager, changes: { id: string; scopes: string[] }[]): Promise<void> {
    if (changes.length === 0) return;
    await manager.query(
      `UPDATE credentials c SET scopes = v.scopes
       FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, scopes text[]) WHERE c.id = v.id`,
      [JSON.stringify(changes)],
    );
  }

  /**
   * `GET /stats` (operators' view across every tree, not tenant data): how many credentials have each
   * `CredentialStatsStatus` at `now`, in ONE aggregate query. Statuses without credentials are absent.
   */
  async countByStatsStatus(now: Date): Promise<{ status: CredentialStatsStatus; count: number }[]> {
    const rows: { status: CredentialStatsStatus; n: string }[] = await this.dataSource.query(
      `SELECT CASE
                WHEN status = 'revoked' THEN 'revoked'
                WHEN status = 'expired' OR expires_at <= $1 THEN 'expired'
                WHEN rotated_to_id IS NOT NULL THEN 'rotated'
                ELSE 'active'
              END AS status,
              count(*)::text AS n
       FROM credentials GROUP BY 1`,
      [now],
    );
    return rows.map((r) => ({ status: r.status, count: Number(r.n) }));
  }

  /** Records use at most once per `minIntervalMs` per key: no write on the hot path otherwise. */
  async touchLastUsed(id: string, at: Date, minIntervalMs: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE credentials SET last_used_at = $2
       WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)`,
      [id, at, new Date(at.getTime() - minIntervalMs)],
    );
  }
}
