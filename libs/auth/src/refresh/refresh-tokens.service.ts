import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditService } from '@agentauth/audit';
import { type ActClaim, APP_CONFIG, type AppConfig, Clock } from '@agentauth/core';
import { RevocationService } from '@agentauth/revocation';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import { InvalidGrantError } from '../vocabulary/oauth-errors';
import { generateRefreshToken, refreshTokenHash } from './refresh-token.format';
import {
  type FamilySelector,
  type RefreshFamily,
  RefreshTokensRepository,
  type StoredRefreshToken,
} from './refresh-tokens.repository';

const DAY_MS = 24 * 3600_000;
/** Family markers outlive every access token minted from the family (they carry `fam`). */
const FAMILY_MARKER_MARGIN_MS = 5 * 60_000;

export interface NewFamilySpec {
  client: AuthenticatedClient;
  subjectAgentId: string;
  scopes: string[];
  audience: string;
  /** The resource server of `audience` (none: the management API). */
  resourceServerId?: string | null;
  delegationId?: string | null;
  /** `act` of the tokens the family will issue (delegated grants). */
  act?: ActClaim | null;
  /** Extra end of the family (a delegation's expiry); the family never outlives the client's agent chain. */
  notAfter?: Date | null;
  /** The DPoP key the grant's proof used: refreshing then needs a proof by it (CONTRACT §10). */
  dpopJkt?: string | null;
}

export interface StartedFamily {
  familyId: string;
  refreshToken: string;
  expiresAt: Date;
}

/** Where a request comes from, for the reuse audit event. */
export interface RequestOrigin {
  ip: string;
  requestId?: string;
}

/** The same `invalid_grant` for every refresh token that cannot be used (no oracle). */
function invalidRefreshToken(internalReason: string): InvalidGrantError {
  return new InvalidGrantError('The refresh token is invalid, expired or revoked', internalReason);
}

/**
 * Refresh-token families (CONTRACT §4; docs/tokens.md "Refresh tokens"): a family per grant, bound to its
 * client; each token used at most once; reuse of a used or revoked token revokes the family — every refresh
 * token in it and, through the `family` revocation marker, every access token minted from it (`fam` claim).
 */
@Injectable()
export class RefreshTokensService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly repository: RefreshTokensRepository,
    private readonly revocation: RevocationService,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** A new family and its first refresh token (one transaction). The raw token exists only in the result. */
  async startFamily(spec: NewFamilySpec): Promise<StartedFamily> {
    const now = this.clock.now();
    const ends = [now.getTime() + this.config.refreshTokenExpireDays * DAY_MS];
    if (spec.client.agentExpiresAtMs !== null) ends.push(spec.client.agentExpiresAtMs);
    if (spec.notAfter) ends.push(spec.notAfter.getTime());
    const expiresAt = new Date(Math.min(...ends));
    const refreshToken = generateRefreshToken();
    const familyId = await this.dataSource.transaction(async (m) => {
      const id = await this.repository.insertFamily(m, {
        rootAgentId: spec.client.rootAgentId,
        clientAgentId: spec.client.agentId,
        subjectAgentId: spec.subjectAgentId,
        credentialId: spec.client.credentialId,
        delegationId: spec.delegationId ?? null,
        act: spec.act ?? null,
        scopes: spec.scopes,
        audience: spec.audience,
        resourceServerId: spec.resourceServerId ?? null,
        createdAt: now,
        expiresAt,
        dpopJkt: spec.dpopJkt ?? null,
      });
      await this.repository.insertToken(m, {
        familyId: id,
        hash: refreshTokenHash(refreshToken) as string,
        parentId: null,
        createdAt: now,
      });
      return id;
    });
    return { familyId, refreshToken, expiresAt };
  }

  /**
   * The presented token and its family if it can be used by `client`: known, bound to this client, its
   * family active and unexpired. A used or revoked token is reuse: the family is revoked (and audited)
   * before `invalid_grant` is thrown. Reads only: the rotation itself is `rotate`.
   */
  async usable(
    raw: string,
    client: AuthenticatedClient,
    origin: RequestOrigin,
  ): Promise<{ token: StoredRefreshToken; family: RefreshFamily; hash: string }> {
    const hash = refreshTokenHash(raw);
    const found = hash ? await this.repository.findByHash(hash) : null;
    if (!hash || !found) throw invalidRefreshToken('unknown_refresh_token');
    const { token, family } = found;
    // Another client presenting it learns nothing and burns nothing (it could not use it anyway).
    if (family.clientAgentId !== client.agentId) throw invalidRefreshToken('client_mismatch');
    const activity = this.activity(found);
    if (activity === 'token_used_or_revoked') await this.reuseDetected(family, token.status, client, origin);
    if (activity === 'family_expired') throw invalidRefreshToken('family_expired');
    // 'family_revoked' (an active token in a revoked family cannot be left by `revokeFamilies`): `rotate`
    // finds the family revoked under its lock and refuses it there.
    return { token, family, hash };
  }

  /**
   * THE answer to "is this refresh token active?" (RFC 7662 §2.2; the refresh grant and introspection):
   * the token unused and unrevoked, its family unexpired and active. The first reason it is not, in the
   * order the refresh grant acts on them (a used or revoked token is reuse before anything else).
   */
  activity(found: {
    token: StoredRefreshToken;
    family: RefreshFamily;
  }): 'active' | 'token_used_or_revoked' | 'family_expired' | 'family_revoked' {
    if (found.token.status !== 'active') return 'token_used_or_revoked';
    if (found.family.expiresAt.getTime() <= this.clock.nowMs()) return 'family_expired';
    if (found.family.status !== 'active') return 'family_revoked';
    return 'active';
  }

  /**
   * Uses the token once and issues its successor, in one transaction: `consume` is the atomic
   * `UPDATE … WHERE status = 'active' RETURNING`; when it finds nothing the token was used meanwhile (a
   * concurrent request won): reuse, the family — the winner's new token included — is revoked. `mint` (the
   * access token: pure, no I/O) runs inside the transaction, so a failure to issue leaves the presented
   * token unused and the client can retry with it. `bindTo` (the thumbprint of the refresh request's DPoP
   * proof) binds an unbound family to that key from now on (CONTRACT §10: a refresh token issued with a
   * proof is bound to it); a bound family keeps its key (the grant checked the proof against it).
   */
  async rotate<T>(
    hash: string,
    family: RefreshFamily,
    client: AuthenticatedClient,
    origin: RequestOrigin,
    mint: () => Promise<T>,
    bindTo?: string,
  ): Promise<{ refreshToken: string; minted: T }> {
    const now = this.clock.now();
    const next = generateRefreshToken();
    const outcome = await this.dataSource.transaction(async (m) => {
      const consumed = await this.repository.consume(m, hash, now);
      if (!consumed) return { kind: 'reused' as const };
      const locked = await this.repository.lockFamily(m, consumed.familyId);
      if (!locked || locked.status !== 'active') return { kind: 'revoked' as const };
      if (bindTo !== undefined && locked.dpopJkt === null) {
        await this.repository.bindFamilyToKey(m, locked.id, bindTo);
      }
      await this.repository.insertToken(m, {
        familyId: consumed.familyId,
        hash: refreshTokenHash(next) as string,
        parentId: consumed.id,
        createdAt: now,
      });
      return { kind: 'rotated' as const, minted: await mint() };
    });
    if (outcome.kind === 'reused') return this.reuseDetected(family, 'used', client, origin);
    if (outcome.kind === 'revoked') throw invalidRefreshToken('family_revoked');
    return { refreshToken: next, minted: outcome.minted };
  }

  /**
   * Revokes families (a cascade, an RFC 7009 request, reuse) inside the caller's transaction: their status,
   * every active token in them, and a `family` marker that kills the access tokens minted from them.
   */
  async revokeFamilies(
    m: EntityManager,
    selector: FamilySelector & { familyIds?: string[] },
    reason: string,
    at: Date = this.clock.now(),
  ): Promise<string[]> {
    const ids = await this.repository.revokeFamilies(m, selector, reason, at);
    await this.revokeFamilyMarkers(m, ids, at);
    return ids;
  }

  /** Looks a refresh token up (introspection, revocation): null when unknown. */
  async find(raw: string): Promise<{ token: StoredRefreshToken; family: RefreshFamily } | null> {
    const hash = refreshTokenHash(raw);
    return hash ? this.repository.findByHash(hash) : null;
  }

  async countActiveFamilies(): Promise<number> {
    return this.repository.countActive(this.clock.now());
  }

  private async revokeFamilyMarkers(m: EntityManager, familyIds: string[], at: Date): Promise<void> {
    if (familyIds.length === 0) return;
    const expiresAt = new Date(
      at.getTime() + this.config.accessTokenExpireMinutes * 60_000 + FAMILY_MARKER_MARGIN_MS,
    );
    await this.revocation.revoke(
      familyIds.map((id) => ({ kind: 'family' as const, id, at, expiresAt })),
      m,
    );
  }

  /** Reuse of a used or revoked token: the whole family dies, `refresh_token.reuse_detected` is recorded. */
  private async reuseDetected(
    family: RefreshFamily,
    tokenStatus: string,
    client: AuthenticatedClient,
    origin: RequestOrigin,
  ): Promise<never> {
    const now = this.clock.now();
    const revoked = await this.dataSource.transaction(async (m) => {
      const ids = await this.repository.revokeFamilies(m, { familyIds: [family.id] }, 'reuse_detected', now);
      // The marker even when the family was revoked before: idempotent, and it makes sure every access
      // token of the family is dead whatever raced.
      await this.revokeFamilyMarkers(m, [family.id], now);
      return ids.length > 0;
    });
    await this.audit.record({
      eventType: 'refresh_token.reuse_detected',
      outcome: 'denied',
      actorAgentId: client.agentId,
      onBehalfOf: family.subjectAgentId !== client.agentId ? family.subjectAgentId : null,
      rootAgentId: family.rootAgentId,
      targetType: 'refresh_family',
      targetId: family.id,
      ip: origin.ip,
      requestId: origin.requestId ?? null,
      details: { family_id: family.id, presented_state: tokenStatus, family_revoked_now: revoked },
    });
    throw invalidRefreshToken('reuse_detected');
  }
}
