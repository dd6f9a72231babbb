import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AuditService } from '@agentauth/audit';
import { Clock, inSpan, setSpanAttributes } from '@agentauth/core';
import {
  credentialEndsAt,
  CredentialsService,
  InvalidClientCredentials,
  type VerifiedApiKey,
} from '@agentauth/credentials';
import { RateLimiterService } from '@agentauth/ratelimit';
import { InvalidClientError } from '../oauth/oauth-errors';
import { presentedClientCredentials } from '../oauth/client-authentication';
import { isUuid } from '../tokens/access-token-claims';
import type { AuthenticatedClient } from './authenticated-client';
import { VerifiedKeyCache } from './verified-key-cache';

/** Where a client authenticates (audit detail). */
export type ClientAuthEndpoint = 'token' | 'introspect' | 'revoke';

export interface ClientAuthContext {
  ip: string;
  requestId?: string;
  endpoint: ClientAuthEndpoint;
}

function idsInPath(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function toClient(verified: VerifiedApiKey, authenticatedAtMs: number): AuthenticatedClient {
  const { agent, credential } = verified;
  return {
    agentId: agent.id,
    rootAgentId: agent.rootAgentId,
    credentialId: credential.id,
    scopes: verified.scopes,
    allowedScopes: agent.allowedScopes,
    trustLevel: agent.trustLevel,
    version: agent.version,
    capabilities: agent.capabilities,
    ancestorIds: idsInPath(agent.path),
    agentExpiresAtMs: verified.agentExpiresAt?.getTime() ?? null,
    credentialValidUntilMs: credentialEndsAt(credential)?.getTime() ?? null,
    rotated: credential.rotatedToId !== null || credential.graceUntil !== null,
    authenticatedAtMs,
    fromCache: false,
  };
}

/**
 * Client authentication for the token, introspection and revocation endpoints (RFC 6749 §2.3.1): the
 * presented `client_id` (an agent id) and `client_secret` (an API key of that agent), by Basic or by body
 * fields. The verified-key cache answers keys verified moments ago; everything else is a full verification
 * (one indexed read + argon2id). Every failure is the same `invalid_client` (401, `WWW-Authenticate: Basic`)
 * with comparable timing (a failure never hits the cache, and verification runs argon2 against a dummy hash
 * when nothing matches), is audited as `client_auth.failed` (never the secret) and counts against the
 * client IP's limit.
 */
@Injectable()
export class ClientAuthenticator {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly cache: VerifiedKeyCache,
    private readonly audit: AuditService,
    private readonly limiter: RateLimiterService,
    private readonly clock: Clock,
  ) {}

  /** Authenticates the request's client or throws `InvalidClientError` (or `InvalidRequestError` for two methods). */
  authenticate(
    req: Request,
    params: Record<string, string>,
    context: ClientAuthContext,
  ): Promise<AuthenticatedClient> {
    const attributes = { 'oauth.endpoint': context.endpoint };
    return inSpan('oauth.client_authentication', { attributes }, async (span) => {
      const client = await this.authenticateInSpan(req, params, context);
      // The client id is the agent's id (public); the secret, its hash and the cache key never leave here.
      setSpanAttributes(span, {
        'oauth.client_auth.method': client.method ?? 'none',
        'oauth.client_auth.cached': client.fromCache,
        'agentauth.agent_id': client.agentId,
      });
      return client;
    });
  }

  private async authenticateInSpan(
    req: Request,
    params: Record<string, string>,
    context: ClientAuthContext,
  ): Promise<AuthenticatedClient> {
    let presented: ReturnType<typeof presentedClientCredentials>;
    try {
      presented = presentedClientCredentials(req, params);
    } catch (error) {
      if (error instanceof InvalidClientError)
        await this.failed(context, error.internalReason ?? 'malformed');
      throw error;
    }
    if (!presented) return this.failed(context, 'no_client_authentication');
    const { clientId, clientSecret, method } = presented;
    const result = await this.verify(clientId, clientSecret);
    if ('failure' in result) {
      const id = clientId.toLowerCase();
      return this.failed(context, result.failure, isUuid(id) ? id : undefined);
    }
    return { ...result.client, method };
  }

  /**
   * The cache, else a full verification (re-cached on success). A failure for anything wrong: unknown
   * client, wrong/revoked/expired/rotated-out key, inactive agent, a client_id that is not a UUID (`failure`
   * is the internal reason, for the audit trail only).
   */
  async verify(
    clientIdRaw: string,
    rawKey: string,
  ): Promise<{ client: AuthenticatedClient } | { failure: string }> {
    const clientId = clientIdRaw.toLowerCase();
    const wellFormed = isUuid(clientId);
    if (wellFormed) {
      const hit = await this.cache.lookup(clientId, rawKey);
      if ('client' in hit) return hit;
    }
    const startedAtMs = this.clock.nowMs();
    let verified: VerifiedApiKey;
    try {
      // Runs for a malformed client_id too (it cannot match any agent): the same work as any failure.
      verified = await this.credentials.verifyApiKey(wellFormed ? clientId : `invalid:${clientId}`, rawKey);
    } catch (error) {
      if (error instanceof InvalidClientCredentials) return { failure: error.reason };
      throw error;
    }
    if (!wellFormed) return { failure: 'malformed_client_id' };
    const client = toClient(verified, startedAtMs);
    await this.cache.store(clientId, rawKey, client);
    return { client };
  }

  private async failed(context: ClientAuthContext, reason: string, clientId?: string): Promise<never> {
    await this.audit.record({
      eventType: 'client_auth.failed',
      outcome: 'failure',
      ip: context.ip,
      requestId: context.requestId ?? null,
      targetType: clientId ? 'agent' : null,
      targetId: clientId ?? null,
      details: { reason: 'invalid_client', cause: reason, endpoint: context.endpoint },
    });
    await this.limiter.recordFailedClientAuth(context.ip, { requestId: context.requestId });
    throw new InvalidClientError(reason);
  }
}
