import {
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  ServerError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { TokenVerificationError, type TokenVerifier } from '../resource-server/verifier.js';

export {
  protectedResourceMetadata,
  protectedResourceMetadataHandler,
  protectedResourceMetadataPath,
  protectedResourceMetadataUrl,
  wwwAuthenticate,
} from '../resource-server/index.js';

function resourceUrl(audience: string[]): URL | undefined {
  for (const aud of audience) {
    try {
      return new URL(aud);
    } catch {
      // not a URL audience: try the next one
    }
  }
  return undefined;
}

/**
 * An `OAuthTokenVerifier` for the MCP SDK's `requireBearerAuth({ verifier })`: AgentAuth tokens checked by
 * `verifier`, mapped to MCP's `AuthInfo` (`extra` carries `sub`, `act`, `delegation_id` and the claims).
 * Refusals become MCP's InvalidTokenError/InsufficientScopeError (401/403); JWKS or introspection outages
 * become ServerError (fail closed).
 */
export function mcpTokenVerifier(verifier: TokenVerifier): OAuthTokenVerifier {
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      try {
        const verified = await verifier.verify(token);
        return {
          token,
          clientId: verified.clientId,
          scopes: verified.scopes,
          expiresAt: verified.expiresAt,
          resource: resourceUrl(verified.audience),
          extra: {
            sub: verified.subject,
            act: verified.claims.act,
            delegation_id: verified.claims.delegation_id,
            claims: verified.claims,
          },
        };
      } catch (error) {
        if (error instanceof TokenVerificationError) {
          if (error.code === 'insufficient_scope') throw new InsufficientScopeError(error.message);
          if (error.code === 'invalid_request') throw new InvalidRequestError(error.message);
          throw new InvalidTokenError(error.message);
        }
        throw new ServerError('token check unavailable');
      }
    },
  };
}
