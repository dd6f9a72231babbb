import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, type SelectQueryBuilder } from 'typeorm';
import { idsOnPath, pathInSubtree, pathUnder, type TreeScope } from '@agentauth/agents';
import { Delegation, type DelegationStatus, type RevocationReason } from './delegation.entity';
import { fetchKeysetPage, type Keyset } from '@agentauth/core';

export interface DelegationListFilter {
  status?: DelegationStatus;
  delegatorAgentId?: string;
  delegateAgentId?: string;
  originalDelegatorId?: string;
  parentDelegationId?: string;
}

/** A row a revocation changed: enough to write its revocation marker and its audit event. */
export interface RevokedDelegationRow {
  id: string;
  depth: number;
  expiresAt: Date;
  delegatorAgentId: string;
  delegateAgentId: string;
}

interface RevokedRowSql {
  id: string;
  depth: number;
  expires_at: Date;
  delegator_agent_id: string;
  delegate_agent_id: string;
}

/** The columns of a revoked row the service needs (`RETURNING` list of `RevokedRowSql`). */
const REVOKED_COLUMNS = 'id, depth, expires_at, delegator_agent_id, delegate_agent_id';

/**
 * SQL condition: delegation `d` is visible to the agent `s` (an `agents` row in the query) — same tree, and
 * `s` governs (is, or is an ancestor of) the delegate or the delegator of any hop of `d`'s chain. The
 * delegators of the chain are its original delegator and every earlier delegate, so this is "the caller
 * governs a party of the chain up to this hop": whoever lent authority that flows into `d`, and whoever
 * (or whose manager) holds it.
 */
function visibleTo(d: string, s: string): string {
  return `${d}.root_agent_id = ${s}.root_agent_id AND (
    EXISTS (SELECT 1 FROM agents vis_delegate
            WHERE vis_delegate.id = ${d}.delegate_agent_id AND ${pathInSubtree('vis_delegate', s)})
    OR EXISTS (SELECT 1 FROM delegations vis_hop
               JOIN agents vis_delegator ON vis_delegator.id = vis_hop.delegator_agent_id
               WHERE vis_hop.id = ANY(${idsOnPath(d)}) AND ${pathInSubtree('vis_delegator', s)}))`;
}

function toRevokedRows(rows: RevokedRowSql[]): RevokedDelegationRow[] {
  return rows
    .map((r) => ({
      id: r.id,
      depth: r.depth,
      expiresAt: r.expires_at,
      delegatorAgentId: r.delegator_agent_id,
      delegateAgentId: r.delegate_agent_id,
    }))
    .sort((x, y) => x.depth - y.depth || x.id.localeCompare(y.id));
}

/**
 * Every query of the delegations table. Tenant reads take the caller's `TreeScope`, whose authority bounds
 * them (`visibleTo`); the system-level reads say so in their name (`chainUnscoped`, used by the grant and by
 * writes that already checked visibility: one delegation id, only that delegation's own chain).
 */
@Injectable()
export class DelegationsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private qb(manager?: EntityManager): SelectQueryBuilder<Delegation> {
    return (manager ?? this.dataSource.manager).getRepository(Delegation).createQueryBuilder('d');
  }

  private visible(scope: TreeScope): SelectQueryBuilder<Delegation> {
    return this.qb().innerJoin(
      'agents',
      'vis_subject',
      `vis_subject.id = :visSubjectId AND ${visibleTo('d', 'vis_subject')}`,
      { visSubjectId: scope.agentId },
    );
  }

  /** The delegation if `scope`'s agent may see it, else null. */
  async findVisible(scope: TreeScope, id: string): Promise<Delegation | null> {
    return this.visible(scope).where('d.id = :id', { id }).getOne();
  }

  /** One page of the delegations visible to `scope`'s agent, in (created_at, id) order; `limit + 1` rows. */
  async listVisible(
    scope: TreeScope,
    filter: DelegationListFilter,
    after: Keyset | undefined,
    limit: number,
  ): Promise<Delegation[]> {
    const qb = this.visible(scope);
    if (filter.status) qb.andWhere('d.status = :status', { status: filter.status });
    if (filter.delegatorAgentId)
      qb.andWhere('d.delegator_agent_id = :delegatorId', { delegatorId: filter.delegatorAgentId });
    if (filter.delegateAgentId)
      qb.andWhere('d.delegate_agent_id = :delegateId', { delegateId: filter.delegateAgentId });
    if (filter.originalDelegatorId)
      qb.andWhere('d.original_delegator_id = :originId', { originId: filter.originalDelegatorId });
    if (filter.parentDelegationId)
      qb.andWhere('d.parent_delegation_id = :parentId', { parentId: filter.parentDelegationId });
    return fetchKeysetPage(qb, after, limit);
  }

  /**
   * The chain ending at `id`, first hop first, in ONE query (the hop ids are read from the row's own path
   * and fetched by primary key); `[]` for an unknown id. `lock: 'share'` takes FOR SHARE row locks top-down:
   * a concurrent revocation of any hop (which locks its target FOR UPDATE first) waits for us, or has
   * committed and is seen here. Unscoped: the grant, and writes that already checked visibility.
   */
  async chainUnscoped(
    id: string,
    options: { manager?: EntityManager; lock?: 'share' } = {},
  ): Promise<Delegation[]> {
    const qb = this.qb(options.manager)
      .innerJoin(
        'delegations',
        'target',
        `target.id = :chainTargetId AND d.id = ANY(${idsOnPath('target')})`,
        {
          chainTargetId: id,
        },
      )
      .orderBy('d.depth', 'ASC');
    if (options.lock === 'share') qb.setLock('pessimistic_read', undefined, ['d']);
    return qb.getMany();
  }

  async insert(manager: EntityManager, delegation: Delegation): Promise<void> {
    await manager.getRepository(Delegation).insert(delegation);
  }

  /** Locks one delegation FOR UPDATE. Unscoped: for writes that already checked its visibility. */
  async lockForUpdateUnscoped(manager: EntityManager, id: string): Promise<Delegation | null> {
    return this.qb(manager).where('d.id = :id', { id }).setLock('pessimistic_write').getOne();
  }

  /**
   * Revokes the active delegations of the subtree at `path` (the delegation itself and every descendant)
   * in ONE statement; the rows it changed, top-down. Lock the top row FOR UPDATE first (in its own
   * statement): a re-delegation racing this one then either committed before (and this statement's fresh
   * snapshot sees its row) or waits and finds its parent revoked.
   */
  async revokeSubtree(
    manager: EntityManager,
    path: string,
    at: Date,
    reason: { top: RevocationReason; descendants: RevocationReason },
  ): Promise<RevokedDelegationRow[]> {
    // TypeORM's postgres driver answers an UPDATE … RETURNING with [rows, rowCount].
    const [rows]: [RevokedRowSql[], number] = await manager.query(
      `UPDATE delegations
          SET status = 'revoked', revoked_at = $2,
              revocation_reason = CASE WHEN path = $1 THEN $3 ELSE $4 END
        WHERE ${pathUnder('path', '$1')} AND status = 'active'
        RETURNING ${REVOKED_COLUMNS}`,
      [path, at, reason.top, reason.descendants],
    );
    return toRevokedRows(rows);
  }

  /**
   * Agent deactivation: revokes every active delegation to or from one of `agentIds`, and every descendant
   * of those, in the caller's transaction. First locks the directly affected rows FOR UPDATE (one
   * statement), then revokes their subtrees (a second statement, whose snapshot includes re-delegations
   * that committed while we waited for the locks).
   */
  async revokeForAgents(
    manager: EntityManager,
    agentIds: string[],
    at: Date,
  ): Promise<RevokedDelegationRow[]> {
    const hit: { path: string }[] = await manager.query(
      `SELECT path FROM delegations
        WHERE status = 'active' AND (delegator_agent_id = ANY($1::uuid[]) OR delegate_agent_id = ANY($1::uuid[]))
        ORDER BY path
        FOR UPDATE`,
      [agentIds],
    );
    if (hit.length === 0) return [];
    const [rows]: [RevokedRowSql[], number] = await manager.query(
      `UPDATE delegations d
          SET status = 'revoked', revoked_at = $2, revocation_reason = 'agent_deactivated'
        WHERE d.status = 'active'
          AND EXISTS (SELECT 1 FROM unnest($1::text[]) AS top(path)
                      WHERE d.path >= top.path COLLATE "C" AND d.path < (top.path || '~') COLLATE "C")
        RETURNING ${REVOKED_COLUMNS}`,
      [hit.map((h) => h.path), at],
    );
    return toRevokedRows(rows);
  }

  /**
   * Compensation when the delegation token could not be signed after the row committed: nobody holds a
   * token for it, so it is simply revoked (it has no descendants yet: only its token's holder could add
   * them). True when this call revoked it.
   */
  async revokeUnissued(id: string, at: Date): Promise<boolean> {
    const [rows]: [{ id: string }[], number] = await this.dataSource.query(
      `UPDATE delegations SET status = 'revoked', revoked_at = $2, revocation_reason = 'issue_failed'
        WHERE id = $1 AND status = 'active' RETURNING id`,
      [id, at],
    );
    return rows.length > 0;
  }

  /** `/stats`: delegations usable right now (active and unexpired). */
  async countActive(now: Date): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query(
      `SELECT count(*)::text AS n FROM delegations WHERE status = 'active' AND expires_at > $1`,
      [now],
    );
    return Number(rows[0].n);
  }
}
