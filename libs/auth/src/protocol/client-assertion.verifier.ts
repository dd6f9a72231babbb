import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { APP_CONFIG, type AppConfig, Clock, isUuid } from '@agentauth/core';
import {
  CredentialsService,
  importPublicJwk,
  InvalidClientCredentials,
  keyAlgOfJwsAlg,
  type PublicKeyAlg,
  type VerifiedCredential,
} from '@agentauth/credentials';
import { ReplayCache } from './replay-cache';

/** Latest `exp` accepted: now + this (CONTRACT §9). */
export const ASSERTION_MAX_LIFETIME_S = 360;
/** `nbf`/`iat` may be this far in the future (clock skew; CONTRACT §9). */
export const ASSERTION_MAX_SKEW_S = 60;
/** Longest assertion read at all. */
export const MAX_ASSERTION_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;

export type ClientAssertionResult =
  { verified: VerifiedCredential; agentId: string } | { failure: string; agentId?: string };

/**
 * `private_key_jwt` (RFC 7523 §2.2, CONTRACT §9): verifies a client assertion against the public keys of the
 * agent it names. Every failure is `{ failure }` (the internal reason, for the audit trail only); the caller
 * turns it into the one `invalid_client`. In order:
 * 1. header `alg` ∈ RS256, PS256, ES256, EdDSA (never `none`, never an HMAC); `iss` = `sub` = an agent id;
 *    a sent `client_id` equals `iss`;
 * 2. the agent's active public keys whose `alg` is the header's (the one `kid` names, if the header has
 *    one); with none, the signature is checked against a throwaway key of that algorithm so an unknown
 *    client costs what a known one does;
 * 3. the signature, then the claims: `aud` exactly the issuer (a string, or an array holding only it — never
 *    the endpoint URL), `exp` in the future and ≤ now + 360 s, `nbf`/`iat` ≤ now + 60 s, a `jti`;
 * 4. the `jti`, single use per agent until `exp` (`ReplayCache`), recorded only now that the signature
 *    verified (nobody can burn another client's identifiers);
 * 5. the key's and its agent's state, exactly as for an API key (revoked, expired, rotated out past grace,
 *    inactive agent chain).
 */
@Injectable()
export class ClientAssertionVerifier {
  private readonly dummyKeys = new Map<PublicKeyAlg, KeyObject>();

  constructor(
    private readonly credentials: CredentialsService,
    private readonly replay: ReplayCache,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async verify(assertion: string, clientIdParam: string | undefined): Promise<ClientAssertionResult> {
    if (assertion.length > MAX_ASSERTION_LENGTH) return { failure: 'malformed_assertion' };
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(assertion);
      unverified = decodeJwt(assertion);
    } catch {
      return { failure: 'malformed_assertion' };
    }
    const iss = typeof unverified.iss === 'string' ? unverified.iss.toLowerCase() : undefined;
    const agentId = iss !== undefined && isUuid(iss) ? iss : undefined;
    const alg = keyAlgOfJwsAlg(header.alg);
    if (alg === null) return { failure: 'assertion_alg_not_allowed', agentId };
    const jwsAlg = header.alg as string;
    if (agentId === undefined) return this.dummyVerify(assertion, alg, jwsAlg, 'assertion_iss_invalid');
    if (unverified.sub !== unverified.iss)
      return this.dummyVerify(assertion, alg, jwsAlg, 'assertion_sub_mismatch', agentId);
    if (clientIdParam !== undefined && clientIdParam !== unverified.iss) {
      return this.dummyVerify(assertion, alg, jwsAlg, 'client_id_mismatch', agentId);
    }
    const kid = typeof header.kid === 'string' ? header.kid : undefined;
    const candidates = (await this.credentials.publicKeyCandidates(agentId, kid)).filter(
      (c) => c.alg === alg,
    );
    if (candidates.length === 0)
      return this.dummyVerify(assertion, alg, jwsAlg, 'unknown_public_key', agentId);

    let lastFailure = 'assertion_signature_invalid';
    for (const candidate of candidates) {
      let payload: JWTPayload;
      try {
        const key = await importPublicJwk(candidate.jwk, alg);
        ({ payload } = await jwtVerify(assertion, key, {
          algorithms: [jwsAlg],
          currentDate: this.clock.now(),
          clockTolerance: ASSERTION_MAX_SKEW_S,
        }));
      } catch {
        continue; // another key of the agent may have signed it
      }
      const claimFailure = this.claimFailure(payload);
      if (claimFailure) return { failure: claimFailure, agentId };
      const ttlMs = (payload.exp as number) * 1000 - this.clock.nowMs() + ASSERTION_MAX_SKEW_S * 1000;
      if (!(await this.replay.firstUse('client_assertion', agentId, payload.jti as string, ttlMs))) {
        return { failure: 'assertion_replayed', agentId };
      }
      try {
        return { verified: await this.credentials.verifiedPublicKey(candidate), agentId };
      } catch (error) {
        if (!(error instanceof InvalidClientCredentials)) throw error;
        lastFailure = error.reason;
      }
    }
    return { failure: lastFailure, agentId };
  }

  /** §9's claim rules on a verified payload (null: all hold). */
  private claimFailure(payload: JWTPayload): string | null {
    const nowS = this.clock.nowMs() / 1000;
    const aud = payload.aud;
    const issuer = this.config.publicBaseUrl;
    const audOk = aud === issuer || (Array.isArray(aud) && aud.length === 1 && aud[0] === issuer);
    if (!audOk) return 'assertion_aud_invalid';
    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) return 'assertion_exp_missing';
    if (payload.exp <= nowS) return 'assertion_expired';
    if (payload.exp > nowS + ASSERTION_MAX_LIFETIME_S) return 'assertion_exp_too_far';
    if (
      payload.nbf !== undefined &&
      !(typeof payload.nbf === 'number' && payload.nbf <= nowS + ASSERTION_MAX_SKEW_S)
    ) {
      return 'assertion_nbf_invalid';
    }
    if (
      payload.iat !== undefined &&
      !(typeof payload.iat === 'number' && payload.iat <= nowS + ASSERTION_MAX_SKEW_S)
    ) {
      return 'assertion_iat_invalid';
    }
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > MAX_JTI_LENGTH) {
      return 'assertion_jti_missing';
    }
    return null;
  }

  /** A signature check that cannot succeed, so a refusal before the key lookup costs what a real check does. */
  private async dummyVerify(
    assertion: string,
    alg: PublicKeyAlg,
    jwsAlg: string,
    failure: string,
    agentId?: string,
  ): Promise<ClientAssertionResult> {
    try {
      await jwtVerify(assertion, this.dummyKey(alg), { algorithms: [jwsAlg] });
    } catch {
      // expected
    }
    return { failure, agentId };
  }

  private dummyKey(alg: PublicKeyAlg): KeyObject {
    let key = this.dummyKeys.get(alg);
    if (!key) {
      const pair =
        alg === 'ES256'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
          : alg === 'EdDSA'
            ? generateKeyPairSync('ed25519')
            : generateKeyPairSync('rsa', { modulusLength: 2048 });
      key = pair.publicKey;
      this.dummyKeys.set(alg, key);
    }
    return key;
  }
}
