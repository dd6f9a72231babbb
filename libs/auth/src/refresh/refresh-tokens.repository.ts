import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { type ActClaim, actingAgentsOf } from '@agentauth/core';

export type RefreshFamilyStatus = 'active' | 'revoked';
export type RefreshTokenStatus = 'active' | 'used' | 'revoked';

export interface RefreshFamily {
  id: string;
  rootAgentId: string;
  clientAgentId: string;
  subjectAgentId: string;
  credentialId: string | null;
  delegationId: string | null;
  /** The `act` claim of the tokens the family issues (delegated grants). */
  act: ActClaim | null;
  scopes: string[];
  audience: string;
  /** The resource server the family's tokens are for (null: the management API). */
  resourceServerId: string | null;
  status: RefreshFamilyStatus;
  revokedReason: string | null;
  createdAt: Date;
  expiresAt: Date;
  /** The DPoP key (RFC 7638 thumbprint) the family is bound to, or null (CONTRACT §10). */
  dpopJkt: string | null;
}

export interface StoredRefreshToken {
  id: string;
  familyId: string;
  status: RefreshTokenStatus;
  createdAt: Date;
}

export interface NewFamily {
  rootAgentId: string;
  clientAgentId: string;
  subjectAgentId: string;
  credentialId: string | null;
  delegationId: string | null;
  act: ActClaim | null;
  scopes: string[];
  audience: string;
  resourceServerId: string | null;
  createdAt: Date;
  expiresAt: Date;
  dpopJkt: string | null;
}

interface RawFamily {
  id: string;
  root_agent_id: string;
  client_agent_id: string;
  subject_agent_id: string;
  credential_id: string | null;
  delegation_id: string | null;
  act: ActClaim | null;
  scopes: string[];
  audience: string;
  resource_server_id: string | null;
  status: RefreshFamilyStatus;
  revoked_reason: string | null;
  created_at: Date;
  expires_at: Date;
  dpop_jkt: string | null;
}

const FAMILY_COLUMNS = `f.id, f.root_agent_id, f.client_agent_id, f.subject_agent_id, f.credential_id,
  f.delegation_id, f.act, f.scopes, f.audience, f.resource_server_id, f.status, f.revoked_reason, f.created_at,
  f.expires_at, f.dpop_jkt`;

function toFamily(r: RawFamily): RefreshFamily {
  return {
    id: r.id,
    rootAgentId: r.root_agent_id,
    clientAgentId: r.client_agent_id,
    subjectAgentId: r.subject_agent_id,
    credentialId: r.credential_id,
    delegationId: r.delegation_id,
    act: r.act,
    scopes: r.scopes,
    audience: r.audience,
    resourceServerId: r.resource_server_id,
    status: r.status,
    revokedReason: r.revoked_reason,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    dpopJkt: r.dpop_jkt,
  };
}

/** Which families a cascade revokes. */
export interface FamilySelector {
  /**
   * Families acting through any of these agents: client, subject or a member of `act` (`chain_agent_ids`,
   * CONTRACT §2 — a suspended middle delegate ends the families minted through it).
   */
  agentIds?: string[];
  credentialIds?: string[];
  delegationIds?: string[];
  resourceServerIds?: string[];
}

/**
 * Every query of `refresh_families` / `refresh_tokens`. The lookup by token hash is authentication (like a
 * key's prefix lookup): the caller then checks the family's client binding and tree.
 */
@Injectable()
export class RefreshTokensRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insertFamily(m: EntityManager, family: NewFamily): Promise<string> {
    const rows: { id: string }[] = await m.query(
      `INSERT INTO refresh_families (root_agent_id, client_agent_id, subject_agent_id, credential_id,
         delegation_id, act, scopes, audience, created_at, expires_at, resource_server_id, dpop_jkt,
         chain_agent_ids)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::uuid[]) RETURNING id`,
      [
        family.rootAgentId,
        family.clientAgentId,
        family.subjectAgentId,
        family.credentialId,
        family.delegationId,
        family.act === null ? null : JSON.stringify(family.act),
        family.scopes,
        family.audience,
        family.createdAt,
        family.expiresAt,
        family.resourceServerId,
        family.dpopJkt,
        actingAgentsOf(family.subjectAgentId, family.clientAgentId, family.act),
      ],
    );
    return rows[0].id;
  }

  async insertToken(
    m: EntityManager,
    token: { familyId: string; hash: string; parentId: string | null; createdAt: Date },
  ): Promise<string> {
    const rows: { id: string }[] = await m.query(
      `INSERT INTO refresh_tokens (family_id, token_hash, parent_id, created_at) VALUES ($1, $2, $3, $4)
       RETURNING id`,
      [token.familyId, token.hash, token.parentId, token.createdAt],
    );
    return rows[0].id;
  }

  /** The token with this hash and its family (one indexed read), or null. */
  async findByHash(hash: string): Promise<{ token: StoredRefreshToken; family: RefreshFamily } | null> {
    const rows: (RawFamily & {
      token_id: string;
      token_status: RefreshTokenStatus;
      token_created_at: Date;
    })[] = await this.dataSource.query(
      `SELECT ${FAMILY_COLUMNS}, t.id AS token_id, t.status AS token_status, t.created_at AS token_created_at
       FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
       WHERE t.token_hash = $1`,
      [hash],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      token: {
        id: row.token_id,
        familyId: row.id,
        status: row.token_status,
        createdAt: row.token_created_at,
      },
      family: toFamily(row),
    };
  }

  /**
   * THE rotation step: marks the token used if, and only if, it is still active — one atomic statement, so
   * of N concurrent uses exactly one gets a row back (the others wait for its row lock, then see `used`).
   */
  async consume(m: EntityManager, hash: string, at: Date): Promise<{ id: string; familyId: string } | null> {
    const [rows]: [{ id: string; family_id: string }[], number] = await m.query(
      `UPDATE refresh_tokens SET status = 'used', used_at = $2
       WHERE token_hash = $1 AND status = 'active'
       RETURNING id, family_id`,
      [hash, at],
    );
    const row = rows[0];
    return row ? { id: row.id, familyId: row.family_id } : null;
  }

  /** The family, locked FOR UPDATE (inside the rotation). */
  /** Binds an unbound family to a DPoP key (RFC 7638 thumbprint); a bound one is left as it is. */
  async bindFamilyToKey(m: EntityManager, id: string, jkt: string): Promise<void> {
    await m.query(`UPDATE refresh_families SET dpop_jkt = $2 WHERE id = $1 AND dpop_jkt IS NULL`, [id, jkt]);
  }

  async lockFamily(m: EntityManager, id: string): Promise<RefreshFamily | null> {
    const rows: RawFamily[] = await m.query(
      `SELECT ${FAMILY_COLUMNS} FROM refresh_families f WHERE f.id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0] ? toFamily(rows[0]) : null;
  }

  /**
   * Revokes the selected active families and every active token in them (two statements, the caller's
   * transaction); returns the ids of the families this call revoked.
   */
  async revokeFamilies(
    m: EntityManager,
    selector: FamilySelector & { familyIds?: string[] },
    reason: string,
    at: Date,
  ): Promise<string[]> {
    const [rows]: [{ id: string }[], number] = await m.query(
      `UPDATE refresh_families SET status = 'revoked', revoked_reason = $5, revoked_at = $6
       WHERE status = 'active' AND (
         id = ANY($1::uuid[])
         OR chain_agent_ids && $2::uuid[]
         OR credential_id = ANY($3::uuid[])
         OR delegation_id = ANY($4::uuid[])
         OR resource_server_id = ANY($7::uuid[]))
       RETURNING id`,
      [
        selector.familyIds ?? [],
        selector.agentIds ?? [],
        selector.credentialIds ?? [],
        selector.delegationIds ?? [],
        reason,
        at,
        selector.resourceServerIds ?? [],
      ],
    );
    const ids = rows.map((r) => r.id);
    if (ids.length > 0) {
      await m.query(
        `UPDATE refresh_tokens SET status = 'revoked', revoked_at = $2
         WHERE family_id = ANY($1::uuid[]) AND status = 'active'`,
        [ids, at],
      );
    }
    return ids;
  }

  /**
   * Deletes up to `limit` families whose `expires_at` is before `before`, with all their tokens (one
   * transaction; families another transaction holds are left for the next run). Returns what it deleted.
   */
  async purgeExpiredFamilies(before: Date, limit: number): Promise<{ families: number; tokens: number }> {
    return this.dataSource.transaction(async (m) => {
      const due: { id: string }[] = await m.query(
        `SELECT id FROM refresh_families WHERE expires_at < $1
         ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [before, limit],
      );
      if (due.length === 0) return { families: 0, tokens: 0 };
      const ids = due.map((r) => r.id);
      // Children and parents of a family's chain go in the same statement (parent_id is checked at its end).
      const [, tokens]: [unknown, number] = await m.query(
        `DELETE FROM refresh_tokens WHERE family_id = ANY($1::uuid[])`,
        [ids],
      );
      const [, families]: [unknown, number] = await m.query(
        `DELETE FROM refresh_families WHERE id = ANY($1::uuid[])`,
        [ids],
      );
      return { families, tokens };
    });
  }

  /** `/stats`: families that can still be refreshed. */
  async countActive(now: Date): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query(
      `SELECT count(*)::text AS n FROM refresh_families WHERE status = 'active' AND expires_at > $1`,
      [now],
    );
    return Number(rows[0].n);
  }
}
