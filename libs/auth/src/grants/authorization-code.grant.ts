import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { AuditService } from '@agentauth/audit';
import { Clock, constantTimeEqual } from '@agentauth/core';
import { buildActClaim, DelegationsService } from '@agentauth/delegations';
import { RevocationService } from '@agentauth/revocation';
import {
  AuthorizationCodesRepository,
  type StoredAuthorizationCode,
} from '../authorization/authorization-codes.repository';
import { AuthorizationCodes } from '../authorization/authorization-codes.service';
import { namedAudience } from '../vocabulary/audience';
import { InvalidGrantError, InvalidTargetError } from '../vocabulary/oauth-errors';
import { requireParam } from '../vocabulary/oauth-params';
import { DpopBinding } from './dpop-binding';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';
import { actSubjects } from '../tokens/access-token-claims';
import { AccessTokenIssuer } from '../tokens/access-token.issuer';
import { DelegatedAuthority } from './delegated-authority';
import type { GrantHandler, GrantResult, TokenRequestContext } from './grant-handler';
import { ScopeResolver } from './scope-resolution';
import { targetCeilings, targetTokenFields, type TokenTarget, TokenTargets } from './token-target';

export const AUTHORIZATION_CODE = 'authorization_code';

/** RFC 7636 §4.1: 43–128 characters of the unreserved set. */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

/** The one description of every refused code (no oracle: the reason goes to audit and logs only). */
const INVALID_CODE =
  'The authorization code is invalid, expired, already used or was issued to another client';

/** RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) = code_challenge, compared in constant time. */
export function verifiesS256(verifier: string, challenge: string): boolean {
  if (!CODE_VERIFIER.test(verifier)) return false;
  return constantTimeEqual(createHash('sha256').update(verifier, 'ascii').digest('base64url'), challenge);
}

/**
 * `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636; CONTRACT §11, docs/authorize.md):
 * - the client: a public client names itself with `client_id` (it authenticates nowhere and relies on
 *   PKCE); a confidential one authenticates by any method of the token endpoint — the token controller
 *   does both (`publicClients`);
 * - the code is used once (`AuthorizationCodes.redeem`, one atomic UPDATE), then checked: issued to this
 *   client, unexpired (≤ 60 s), `redirect_uri` exactly the one of the authorization request, the PKCE
 *   verifier (S256, constant time), and its approval — the delegation — still valid now (the same chain
 *   verdict as every delegated grant). Any failure: `invalid_grant`, one description;
 * - a second use of a code → `invalid_grant`, and what the first use issued is revoked (its refresh family
 *   — which kills every access token carrying its `fam` — and the access token's `jti`); audited
 *   `authorization_code.reuse_detected`;
 * - the token: `sub` = the approver, `act: {sub: client}`, `client_id` = the client, `delegation_id`, `aud`
 *   = the code's resource (§8; a `resource` parameter may repeat it, not change it), scope = what was
 *   approved, re-checked by THE scope step with the policies of both agents; DPoP-bound when a proof is sent;
 * - always a rotating refresh token whose family carries the delegation: it dies with it.
 */
@Injectable()
export class AuthorizationCodeGrant implements GrantHandler {
  readonly grantTypes = [AUTHORIZATION_CODE];
  readonly auditedAs = AUTHORIZATION_CODE;
  readonly publicClients = true;

  constructor(
    private readonly codes: AuthorizationCodes,
    private readonly codeRows: AuthorizationCodesRepository,
    private readonly delegations: DelegationsService,
    private readonly authority: DelegatedAuthority,
    private readonly scopes: ScopeResolver,
    private readonly issuer: AccessTokenIssuer,
    private readonly refresh: RefreshTokensService,
    private readonly targets: TokenTargets,
    private readonly dpop: DpopBinding,
    private readonly audit: AuditService,
    private readonly revocation: RevocationService,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {
    this.logger.setContext('AuthorizationCodeGrant');
  }

  async handle(context: TokenRequestContext): Promise<GrantResult> {
    const { params, client } = context;
    const rawCode = requireParam(params, 'code');
    const redirectUri = requireParam(params, 'redirect_uri');
    const verifier = requireParam(params, 'code_verifier');

    const redemption = await this.codes.redeem(rawCode);
    if (redemption.kind === 'unknown') throw new InvalidGrantError(INVALID_CODE, 'unknown_code');
    if (redemption.kind === 'reused') {
      await this.revokeIssued(redemption.code, 'code_reuse', context);
      throw new InvalidGrantError(INVALID_CODE, 'code_reused');
    }
    const code = redemption.code;
    if (code.clientAgentId !== client.agentId) throw new InvalidGrantError(INVALID_CODE, 'client_mismatch');
    if (code.expiresAt.getTime() <= this.clock.nowMs())
      throw new InvalidGrantError(INVALID_CODE, 'code_expired');
    if (redirectUri !== code.redirectUri) throw new InvalidGrantError(INVALID_CODE, 'redirect_uri_mismatch');
    if (!verifiesS256(verifier, code.codeChallenge))
      throw new InvalidGrantError(INVALID_CODE, 'pkce_mismatch');

    const status = await this.delegations.chainStatus(code.delegationId);
    const delegation = status?.chain[status.chain.length - 1];
    if (
      !status ||
      !delegation ||
      !status.verdict.valid ||
      delegation.kind !== 'authorization_code' ||
      delegation.delegateAgentId !== client.agentId
    ) {
      throw new InvalidGrantError(INVALID_CODE, `approval_${status?.verdict.reason ?? 'unknown'}`);
    }
    const target = await this.target(code, params);
    const approverId = code.approverAgentId;
    const act = buildActClaim([client.agentId]);
    const { jkt } = await this.dpop.bind(context.dpop, {
      clientId: client.agentId,
      clientRequiresDpop: client.requiresDpop,
      subjectAgentId: approverId,
      actorIds: actSubjects(act),
      target,
    });
    const { scopes } = await this.scopes.resolve({
      requested: code.scopes,
      rootAgentId: client.rootAgentId,
      ceilings: [status.verdict.effectiveScopes, ...targetCeilings(target)],
      agents: await this.authority.policyAgents(
        approverId,
        client,
        status.verdict.effectiveScopes,
        'approver_inactive',
      ),
      resource: target.audience,
      concrete: target.kind === 'resource_server',
      ip: context.ip,
      requestId: context.requestId,
      time: this.clock.now(),
      delegationDepth: delegation.depth,
    });

    const family = await this.refresh.startFamily({
      client,
      subjectAgentId: approverId,
      scopes,
      ...targetTokenFields(target),
      delegationId: delegation.id,
      act,
      notAfter: status.verdict.expiresAt,
      dpopJkt: jkt,
    });
    const token = await this.issuer.issue({
      client,
      subjectAgentId: approverId,
      scopes,
      ...targetTokenFields(target),
      act,
      delegationId: delegation.id,
      familyId: family.familyId,
      notAfterMs: [status.verdict.expiresAt.getTime(), family.expiresAt.getTime()],
      jkt,
    });
    const { reused } = await this.dataSource.transaction((m) =>
      this.codeRows.recordIssued(m, code.codeHash, {
        familyId: family.familyId,
        jti: token.claims.jti,
        expiresAt: new Date(token.claims.exp * 1000),
      }),
    );
    if (reused) {
      // A second use raced this one and found nothing recorded yet: what this one issued dies now.
      await this.revokeIssued(
        {
          ...code,
          familyId: family.familyId,
          accessTokenJti: token.claims.jti,
          accessTokenExpiresAt: new Date(token.claims.exp * 1000),
        },
        'code_reuse',
        context,
      );
      throw new InvalidGrantError(INVALID_CODE, 'code_reused');
    }
    return {
      token,
      refreshToken: family.refreshToken,
      auditDetails: {
        client_type: client.credentialId ? 'confidential' : 'public',
        delegation_id: delegation.id,
        family_id: family.familyId,
      },
    };
  }

  /** The code's resource; a `resource` parameter may name it again (any spelling), never another. */
  private async target(code: StoredAuthorizationCode, params: Record<string, string>): Promise<TokenTarget> {
    const target = await this.targets.resolve(
      code.resource ? { resource: code.resource } : {},
      code.rootAgentId,
    );
    if (namedAudience(params) !== undefined) {
      const named = await this.targets.named(params, code.rootAgentId);
      if (named?.audience !== target.audience) {
        throw new InvalidTargetError('The resource must be the one of the authorization request');
      }
    }
    return target;
  }

  /**
   * RFC 6749 §4.1.2 / §10.5: a code presented twice — everything issued from it is revoked (the refresh
   * family, and through its marker every access token minted from it; the first access token's `jti`).
   */
  private async revokeIssued(
    code: StoredAuthorizationCode,
    reason: string,
    context: TokenRequestContext,
  ): Promise<void> {
    const now = this.clock.now();
    const familyIds = code.familyId ? [code.familyId] : [];
    await this.dataSource.transaction(async (m) => {
      if (familyIds.length > 0) await this.refresh.revokeFamilies(m, { familyIds }, reason, now);
      if (code.accessTokenJti) {
        await this.revocation.revoke(
          [{ kind: 'jti', id: code.accessTokenJti, at: now, expiresAt: code.accessTokenExpiresAt }],
          m,
        );
      }
    });
    this.logger.info(
      { client_id: context.client.agentId, family_id: code.familyId },
      'authorization code reused',
    );
    await this.audit.record({
      eventType: 'authorization_code.reuse_detected',
      outcome: 'denied',
      actorAgentId: context.client.agentId,
      onBehalfOf: code.approverAgentId,
      rootAgentId: code.rootAgentId,
      targetType: 'delegation',
      targetId: code.delegationId,
      ip: context.ip,
      requestId: context.requestId ?? null,
      details: {
        delegation_id: code.delegationId,
        revoked_family_ids: familyIds,
        revoked_access_token: code.accessTokenJti !== null,
      },
    });
  }
}
