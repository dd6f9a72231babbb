import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AuditService } from '@agentauth/audit';
import { coveredBy } from '@agentauth/scopes';
import type { SignedInApprover } from '../../authorization/consent.service';
import { ClientAuthenticator } from '../../protocol/client-authenticator.service';
import { OAuthRequestLimits } from '../../protocol/oauth-request-limits';

/** The scope the sign-in key must carry: approving creates a delegation (CONTRACT §11). */
export const SIGN_IN_SCOPE = 'delegations:write';
const MAX_FIELD_LENGTH = 512;

/** The one message of every failed sign-in (no oracle: which part was wrong goes to the audit trail only). */
export const SIGN_IN_FAILED_MESSAGE =
  'Sign-in failed: check the agent ID and the API key (it must belong to an agent of this client’s tree and carry the scope delegations:write).';

export class SignInFailedError extends Error {
  constructor(readonly reason: string) {
    super(`sign-in failed: ${reason}`);
    this.name = 'SignInFailedError';
  }
}

/**
 * The sign-in of the person at the browser (CONTRACT §11): an agent of the client's root tree, by agent id
 * and API key, verified by THE client authentication's key check (`ClientAuthenticator.verify`: cache, one
 * indexed read + argon2id, the same timing for every failure). The key's scopes must include
 * `delegations:write`. Every failure counts against the client IP exactly like a failed client
 * authentication (the same limiter; over the limit: 429) and is audited `authorize.sign_in_failed` — the
 * claimed agent id, never the key. A success counts against the agent's limit like any call.
 */
@Injectable()
export class AuthorizeSignIn {
  constructor(
    private readonly clients: ClientAuthenticator,
    private readonly limits: OAuthRequestLimits,
    private readonly audit: AuditService,
  ) {}

  async signIn(
    req: Request,
    form: { agentId: unknown; apiKey: unknown },
    client: { id: string; rootAgentId: string },
    origin: { ip: string; requestId?: string },
  ): Promise<SignedInApprover> {
    const agentId = typeof form.agentId === 'string' ? form.agentId.trim().toLowerCase() : '';
    const apiKey = typeof form.apiKey === 'string' ? form.apiKey.trim() : '';
    if (!agentId || !apiKey || agentId.length > MAX_FIELD_LENGTH || apiKey.length > MAX_FIELD_LENGTH) {
      return this.failed(req, 'missing_credentials', agentId, client, origin);
    }
    const result = await this.clients.verify(agentId, apiKey);
    if ('failure' in result) return this.failed(req, result.failure, agentId, client, origin);
    const verified = result.client;
    // Another tree's agent gets exactly the answer a wrong key gets.
    if (verified.rootAgentId !== client.rootAgentId) {
      return this.failed(req, 'other_tree', agentId, client, origin);
    }
    if (!coveredBy(SIGN_IN_SCOPE, verified.scopes)) {
      return this.failed(req, 'missing_delegations_write', agentId, client, origin);
    }
    if (verified.agentId === client.id) return this.failed(req, 'client_itself', agentId, client, origin);
    await this.limits.authenticated(verified.agentId, {
      ip: origin.ip,
      rootAgentId: verified.rootAgentId,
      requestId: origin.requestId,
    });
    return {
      agentId: verified.agentId,
      rootAgentId: verified.rootAgentId,
      credentialId: verified.credentialId as string,
      keyScopes: verified.scopes,
    };
  }

  private async failed(
    req: Request,
    reason: string,
    claimedAgentId: string,
    client: { id: string; rootAgentId: string },
    origin: { ip: string; requestId?: string },
  ): Promise<never> {
    // The IP's bucket first: over the limit this throws the 429 and writes no row (CONTRACT §7).
    await this.limits.refusedBeforeAuthentication(req, `authorize_sign_in:${reason}`);
    await this.audit.record({
      eventType: 'authorize.sign_in_failed',
      outcome: 'failure',
      targetType: 'agent',
      targetId: client.id,
      rootAgentId: client.rootAgentId,
      ip: origin.ip,
      requestId: origin.requestId ?? null,
      details: {
        reason,
        client_id: client.id,
        ...(/^[0-9a-f-]{36}$/.test(claimedAgentId) ? { claimed_agent_id: claimedAgentId } : {}),
      },
    });
    throw new SignInFailedError(reason);
  }
}
