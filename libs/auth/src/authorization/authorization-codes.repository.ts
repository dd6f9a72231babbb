import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';

/** What a code is bound to (CONTRACT §11): client, redirect URI, PKCE challenge, scope, resource, approval. */
export interface AuthorizationCodeBinding {
  rootAgentId: string;
  clientAgentId: string;
  approverAgentId: string;
  delegationId: string;
  redirectUri: string;
  codeChallenge: string;
  scopes: string[];
  resource: string | null;
}

/** One authorization code as stored: its SHA-256 hash, never the code (CONTRACT §11). */
export interface StoredAuthorizationCode extends AuthorizationCodeBinding {
  codeHash: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  reusedAt: Date | null;
  familyId: string | null;
  accessTokenJti: string | null;
  accessTokenExpiresAt: Date | null;
}

interface Row {
  code_hash: string;
  root_agent_id: string;
  client_agent_id: string;
  approver_agent_id: string;
  delegation_id: string;
  redirect_uri: string;
  code_challenge: string;
  scopes: string[];
  resource: string | null;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  reused_at: Date | null;
  family_id: string | null;
  access_token_jti: string | null;
  access_token_expires_at: Date | null;
}

function toCode(r: Row): StoredAuthorizationCode {
  return {
    codeHash: r.code_hash,
    rootAgentId: r.root_agent_id,
    clientAgentId: r.client_agent_id,
    approverAgentId: r.approver_agent_id,
    delegationId: r.delegation_id,
    redirectUri: r.redirect_uri,
    codeChallenge: r.code_challenge,
    scopes: r.scopes,
    resource: r.resource,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    usedAt: r.used_at,
    reusedAt: r.reused_at,
    familyId: r.family_id,
    accessTokenJti: r.access_token_jti,
    accessTokenExpiresAt: r.access_token_expires_at,
  };
}

/**
 * `authorization_codes` (PostgreSQL: durable, so a code's single use and its reuse detection survive a
 * Redis flush — fail closed). Every race-sensitive step is one atomic statement.
 */
@Injectable()
export class AuthorizationCodesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(
    code: Omit<
      StoredAuthorizationCode,
      'usedAt' | 'reusedAt' | 'familyId' | 'accessTokenJti' | 'accessTokenExpiresAt'
    >,
  ): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO authorization_codes (code_hash, root_agent_id, client_agent_id, approver_agent_id,
         delegation_id, redirect_uri, code_challenge, scopes, resource, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        code.codeHash,
        code.rootAgentId,
        code.clientAgentId,
        code.approverAgentId,
        code.delegationId,
        code.redirectUri,
        code.codeChallenge,
        code.scopes,
        code.resource,
        code.createdAt,
        code.expiresAt,
      ],
    );
  }

  /** Uses the code once: the row if THIS call used it, `null` when it is unknown or was used before. */
  async consume(codeHash: string, at: Date): Promise<StoredAuthorizationCode | null> {
    const [rows] = await this.dataSource.query<[Row[], number]>(
      `UPDATE authorization_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL RETURNING *`,
      [codeHash, at],
    );
    return rows[0] ? toCode(rows[0]) : null;
  }

  /** A used code presented again: marked reused (first time only), returned as it is now; `null` if unknown. */
  async markReused(codeHash: string, at: Date): Promise<StoredAuthorizationCode | null> {
    const [rows] = await this.dataSource.query<[Row[], number]>(
      `UPDATE authorization_codes SET reused_at = COALESCE(reused_at, $2)
        WHERE code_hash = $1 AND used_at IS NOT NULL RETURNING *`,
      [codeHash, at],
    );
    return rows[0] ? toCode(rows[0]) : null;
  }

  /**
   * Records what a redemption issued, and answers whether a reuse was seen meanwhile (then the caller
   * revokes what it just issued: a reuse racing the first redemption still kills its tokens).
   */
  async recordIssued(
    manager: EntityManager,
    codeHash: string,
    issued: { familyId: string; jti: string; expiresAt: Date },
  ): Promise<{ reused: boolean }> {
    // UPDATE … RETURNING through TypeORM's query(): [rows, affected count].
    const [rows] = await manager.query<[{ reused_at: Date | null }[], number]>(
      `UPDATE authorization_codes SET family_id = $2, access_token_jti = $3, access_token_expires_at = $4
        WHERE code_hash = $1 RETURNING reused_at`,
      [codeHash, issued.familyId, issued.jti, issued.expiresAt],
    );
    return { reused: rows[0]?.reused_at != null };
  }

  /** Housekeeping: at most `limit` codes expired before `before` (no longer redeemable nor worth a reuse check). */
  async purgeExpired(before: Date, limit: number): Promise<number> {
    const [, count] = await this.dataSource.query<[unknown[], number]>(
      `DELETE FROM authorization_codes WHERE code_hash IN (
         SELECT code_hash FROM authorization_codes WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)`,
      [before, limit],
    );
    return count;
  }
}
