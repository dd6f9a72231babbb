import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type ActClaim, Clock } from '@agentauth/core';
import { TokenSigner } from '@agentauth/keys';
import { formatScopeParam, normalize } from '@agentauth/scopes';
import { agentClaimOf, type AuthenticatedClient } from '../clients/authenticated-client';
import { InvalidGrantError } from '../vocabulary/oauth-errors';
import type { AccessTokenClaims } from './access-token-claims';

export interface AccessTokenSpec {
  /** The actor: `client_id`, and the `agent` claim. */
  client: AuthenticatedClient;
  /** `sub`: on whose authority the token acts (the client itself unless delegated/exchanged). */
  subjectAgentId: string;
  scopes: readonly string[];
  audience: string;
  /**
   * Instants (ms) the token must not outlive besides the configured lifetime: the client's key and agent
   * chain are always included; grants add the subject token's `exp`, the family's or delegation's end.
   */
  notAfterMs?: (number | null)[];
  /** `auth_time` (ms): the earliest database check the token relies on. Default: the client's. */
  authTimeMs?: number;
  act?: ActClaim;
  delegationId?: string;
  familyId?: string;
  subjectRefs?: string[];
  /** The registered resource server `audience` names (its `resource_server_id` claim). */
  resourceServerId?: string;
  /** The resource server's own token lifetime, when it has one (never above the configured lifetime). */
  lifetimeSeconds?: number | null;
  /** DPoP (RFC 9449): the thumbprint of the proof's key; the token gets `cnf: {jkt}`. */
  jkt?: string;
}

export interface IssuedAccessToken {
  jwt: string;
  claims: AccessTokenClaims;
  /** Seconds until `exp` (the token response's `expires_in`). */
  expiresIn: number;
}

/**
 * Builds and signs access tokens (CONTRACT §4): `exp` = the earliest of now + ACCESS_TOKEN_EXPIRE_MINUTES
 * (or the resource server's shorter `access_token_ttl_seconds`),
 * the client key's end (expiry or rotation grace), its agent chain's `expires_at` and whatever the grant adds,
 * in whole seconds and never later than any of them. No I/O (the signer holds its key in memory).
 */
@Injectable()
export class AccessTokenIssuer {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly signer: TokenSigner,
  ) {}

  async issue(spec: AccessTokenSpec): Promise<IssuedAccessToken> {
    const { client } = spec;
    const bounds = [
      client.agentExpiresAtMs,
      client.credentialValidUntilMs,
      ...(spec.notAfterMs ?? []),
    ].filter((v): v is number => v !== null && v !== undefined);
    const authTimeMs = Math.min(spec.authTimeMs ?? client.authenticatedAtMs, client.authenticatedAtMs);
    // Two attempts: the signer reads the clock again, and a second may tick between the two readings.
    for (let attempt = 0; ; attempt++) {
      const nowSec = this.clock.nowSeconds();
      const lifetime = Math.min(
        this.config.accessTokenExpireMinutes * 60,
        spec.lifetimeSeconds ?? Number.POSITIVE_INFINITY,
      );
      let exp = nowSec + lifetime;
      for (const bound of bounds) exp = Math.min(exp, Math.floor(bound / 1000));
      if (exp <= nowSec) {
        throw new InvalidGrantError(
          'The grant ends within a second; no token can be issued',
          'expires_too_soon',
        );
      }
      const claims = {
        sub: spec.subjectAgentId,
        aud: spec.audience,
        exp,
        client_id: client.agentId,
        scope: formatScopeParam(normalize(spec.scopes)),
        agent: agentClaimOf(client),
        // Millisecond precision (a NumericDate may have a fraction, RFC 7519 §2): a token authenticated
        // right after a suspension or narrowing committed is not mistaken for one from before it.
        auth_time: Math.min(authTimeMs, this.clock.nowMs()) / 1000,
        ...(client.credentialId ? { cid: client.credentialId } : {}),
        ...(spec.familyId ? { fam: spec.familyId } : {}),
        ...(spec.act ? { act: spec.act } : {}),
        ...(spec.delegationId ? { delegation_id: spec.delegationId } : {}),
        ...(spec.subjectRefs && spec.subjectRefs.length > 0 ? { subject_refs: spec.subjectRefs } : {}),
        ...(spec.resourceServerId ? { resource_server_id: spec.resourceServerId } : {}),
        ...(spec.jkt ? { cnf: { jkt: spec.jkt } } : {}),
      };
      try {
        const signed = await this.signer.signAccessToken(claims);
        return {
          jwt: signed.jwt,
          claims: signed.claims as unknown as AccessTokenClaims,
          expiresIn: signed.claims.exp - signed.claims.iat,
        };
      } catch (error) {
        if (attempt > 0 || !(error instanceof Error) || !error.message.startsWith('signAccessToken: exp')) {
          throw error;
        }
      }
    }
  }
}
