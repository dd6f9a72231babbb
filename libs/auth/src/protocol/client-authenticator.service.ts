import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AgentsService } from '@agentauth/agents';
import { AuditService } from '@agentauth/audit';
import { Clock, inSpan, isUuid, setSpanAttributes } from '@agentauth/core';
import {
  credentialEndsAt,
  CredentialsService,
  InvalidClientCredentials,
  type VerifiedApiKey,
  type VerifiedCredential,
} from '@agentauth/credentials';
import { InvalidClientError, OAuthError } from '../vocabulary/oauth-errors';
import type { PresentedClient, PresentedClientCredentials } from './client-authentication';
import { ClientAssertionVerifier } from './client-assertion.verifier';
import type { AuthenticatedClient } from '../clients/authenticated-client';
import { OAuthRequestLimits } from './oauth-request-limits';
import { VerifiedKeyCache } from '../clients/verified-key-cache';

/** Where a client authenticates (audit detail). */
export type ClientAuthEndpoint = 'token' | 'introspect' | 'revoke';

export interface ClientAuthContext {
  ip: string;
  requestId?: string;
  endpoint: ClientAuthEndpoint;
  /**
   * The grant serves public clients (CONTRACT §11): a request with `client_id` and no credential at all
   * names a public client. A confidential client is never authenticated by its `client_id` alone.
   */
  allowPublic?: boolean;
}

function idsInPath(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function toClient(verified: VerifiedCredential, authenticatedAtMs: number): AuthenticatedClient {
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
    requiresDpop: verified.requiresDpop,
    authenticatedAtMs,
    fromCache: false,
  };
}

/**
 * THE client authentication of the token, introspection and revocation endpoints (one implementation they
 * all call): the presented `client_id` (an agent id) and `client_secret` (an API key of that agent), by
 * Basic or by body fields (RFC 6749 §2.3.1), or a client assertion signed by one of the agent's public keys
 * (`private_key_jwt`, RFC 7523 §2.2, `ClientAssertionVerifier`). For API keys the verified-key cache answers
 * keys verified moments ago; everything else is a full verification (one indexed read + argon2id, or the
 * signature check). `clientId` is normalized where it is parsed (`presentedClient`). Every failure is the same `invalid_client` (401, `WWW-Authenticate: Basic`)
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
    private readonly limits: OAuthRequestLimits,
    private readonly clock: Clock,
    private readonly assertions: ClientAssertionVerifier,
    private readonly agents: AgentsService,
  ) {}

  /** Authenticates the request's client or throws `InvalidClientError` (or `InvalidRequestError` for two methods). */
  authenticate(
    req: Request,
    presented: PresentedClient,
    context: ClientAuthContext,
  ): Promise<AuthenticatedClient> {
    const attributes = { 'oauth.endpoint': context.endpoint };
    return inSpan('oauth.client_authentication', { attributes }, async (span) => {
      const client = await this.authenticateInSpan(req, presented, context);
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
    presentedClient: PresentedClient,
    context: ClientAuthContext,
  ): Promise<AuthenticatedClient> {
    let presented: PresentedClientCredentials | undefined;
    try {
      presented = presentedClient.credentials();
    } catch (error) {
      if (error instanceof InvalidClientError)
        await this.failed(req, context, error.internalReason ?? 'malformed');
      // e.g. two authentication methods at once (invalid_request): refused, counted and audited the same way
      if (error instanceof OAuthError) {
        await this.refused(req, context, error.error, error.internalReason ?? error.error);
      }
      throw error;
    }
    if (!presented) {
      if (context.allowPublic && presentedClient.claimedClientId !== undefined)
        return this.publicClient(req, presentedClient.claimedClientId, context);
      return this.failed(req, context, 'no_client_authentication');
    }
    if (presented.method === 'private_key_jwt') {
      const startedAtMs = this.clock.nowMs();
      const result = await this.assertions.verify(presented.assertion, presented.clientId);
      if ('failure' in result) {
        return this.failed(req, context, result.failure, result.agentId, presented.method);
      }
      const client = toClient(result.verified, startedAtMs);
      await this.countAgainstAgent(client, context);
      return { ...client, method: presented.method };
    }
    const { clientId, clientSecret, method } = presented;
    const result = await this.verify(clientId, clientSecret);
    if ('failure' in result) {
      return this.failed(req, context, result.failure, isUuid(clientId) ? clientId : undefined, method);
    }
    await this.countAgainstAgent(result.client, context);
    return { ...result.client, method };
  }

  /**
   * A public client (CONTRACT §11): an active agent with `client_type: public`, named by `client_id`. It
   * proves nothing — the grant's PKCE verifier and the binding of what it presents (a code, a refresh token)
   * to it do. Anything else (unknown, inactive, a confidential client sending no credential) is the same
   * `invalid_client` as every failure.
   */
  private async publicClient(
    req: Request,
    clientIdRaw: string,
    context: ClientAuthContext,
  ): Promise<AuthenticatedClient> {
    const startedAtMs = this.clock.nowMs();
    const clientId = clientIdRaw.toLowerCase();
    const activity = isUuid(clientId) ? await this.agents.getActivity(clientId) : null;
    if (!activity?.active || activity.agent.clientType !== 'public') {
      const reason = !activity
        ? 'unknown_client'
        : !activity.active
          ? 'agent_inactive'
          : 'no_client_authentication';
      return this.failed(req, context, reason, isUuid(clientId) ? clientId : undefined, 'none');
    }
    const { agent } = activity;
    const client: AuthenticatedClient = {
      agentId: agent.id,
      rootAgentId: agent.rootAgentId,
      credentialId: null,
      // No key: nothing is issued on the client's own authority, only on an approval's (a delegation).
      scopes: [],
      allowedScopes: agent.allowedScopes,
      trustLevel: agent.trustLevel,
      version: agent.version,
      capabilities: agent.capabilities,
      ancestorIds: agent.path.split('/').filter((s) => s.length > 0),
      agentExpiresAtMs: activity.effectiveExpiresAt?.getTime() ?? null,
      credentialValidUntilMs: null,
      rotated: false,
      requiresDpop: activity.requiresDpop,
      authenticatedAtMs: startedAtMs,
      method: 'none',
      fromCache: false,
    };
    await this.countAgainstAgent(client, context);
    return client;
  }

  /** From here on the call is the agent's: it counts against the agent's limit like any other call. */
  private async countAgainstAgent(client: AuthenticatedClient, context: ClientAuthContext): Promise<void> {
    await this.limits.authenticated(client.agentId, {
      ip: context.ip,
      rootAgentId: client.rootAgentId,
      requestId: context.requestId,
    });
  }

  /**
   * The cache, else a full verification (re-cached on success). A failure for anything wrong: unknown
   * client, wrong/revoked/expired/rotated-out key, inactive agent, a client_id that is not a UUID (`failure`
   * is the internal reason, for the audit trail only).
   */
  async verify(
    clientId: string,
    rawKey: string,
  ): Promise<{ client: AuthenticatedClient } | { failure: string }> {
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

  /**
   * Counted against the IP first (over the limit: 429 and no row), then audited. Nobody is authenticated:
   * the client id the caller typed is only a claim — `details.claimed_client_id`, never the actor or the
   * target (anyone could file failures under any agent's id).
   */
  private async failed(
    req: Request,
    context: ClientAuthContext,
    reason: string,
    clientId?: string,
    method?: string,
  ): Promise<never> {
    await this.refused(req, context, 'invalid_client', reason, clientId, method);
    throw new InvalidClientError(reason);
  }

  /** The one record of a client-authentication refusal: the IP's bucket first, then `client_auth.failed`. */
  private async refused(
    req: Request,
    context: ClientAuthContext,
    error: string,
    cause: string,
    clientId?: string,
    method?: string,
  ): Promise<void> {
    await this.limits.refusedBeforeAuthentication(req, cause);
    await this.audit.record({
      eventType: 'client_auth.failed',
      outcome: 'failure',
      ip: context.ip,
      requestId: context.requestId ?? null,
      details: {
        reason: error,
        cause,
        endpoint: context.endpoint,
        ...(clientId ? { claimed_client_id: clientId } : {}),
        ...(method ? { client_auth_method: method } : {}),
      },
    });
  }
}
