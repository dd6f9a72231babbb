import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { AuditService } from '@agentauth/audit';
import {
  type BearerAuthenticator,
  ClientIpResolver,
  type Principal,
  requestIdOf,
  UnauthorizedProblem,
} from '@agentauth/core';
import { InvalidClientCredentials } from './credentials.errors';
import { CredentialsService } from './credentials.service';

/**
 * INTERIM management authentication, until the token endpoint exists: `Authorization: Bearer <api key>`.
 * The key's agent is both actor and subject; the key's scopes (∩ the agent's allowed_scopes) are the
 * "token" scopes of CONTRACT §5. The token issue replaces this provider with the JWT authenticator
 * (`BEARER_AUTHENTICATOR` in CredentialsModule is the only wiring).
 */
@Injectable()
export class ApiKeyAuthenticator implements BearerAuthenticator {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly audit: AuditService,
    private readonly clientIp: ClientIpResolver,
  ) {}

  async authenticate(bearer: string, req: Request): Promise<Principal> {
    try {
      const { agent, credential, scopes } = await this.credentials.authenticateApiKey(bearer);
      return {
        actorAgentId: agent.id,
        subjectAgentId: agent.id,
        rootAgentId: agent.rootAgentId,
        scopes,
        credentialId: credential.id,
      };
    } catch (error) {
      if (!(error instanceof InvalidClientCredentials)) throw error;
      await this.audit.record({
        eventType: 'client_auth.failed',
        outcome: 'failure',
        ip: this.clientIp.resolve(req),
        requestId: requestIdOf(req) ?? null,
        details: { reason: 'invalid_api_key' },
      });
      throw new UnauthorizedProblem('The API key is invalid, expired or revoked', 'invalid_token');
    }
  }
}
