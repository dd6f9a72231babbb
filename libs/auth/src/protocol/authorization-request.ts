import { Injectable } from '@nestjs/common';
import { type Agent, AgentsService, matchRedirectUri } from '@agentauth/agents';
import { isUuid } from '@agentauth/core';
import { ScopeRegistry } from '@agentauth/scope-registry';
import { isValidScopeName, parseScopeRequest } from '@agentauth/scopes';
import { AuthorizationRedirectError, type ConsentRequest } from '../authorization/consent.service';
import { type TokenTarget, TokenTargets } from '../grants/token-target';
import { OAuthError } from '../vocabulary/oauth-errors';

/** The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, RFC 8707). */
export const AUTHORIZATION_PARAMS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'code_challenge',
  'code_challenge_method',
  'scope',
  'state',
  'resource',
] as const;
export type AuthorizationParams = Partial<Record<(typeof AUTHORIZATION_PARAMS)[number], string>>;

/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is always 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const MAX_PARAM_LENGTH = 4096;

/**
 * An authorization request that cannot be answered at the client's redirect URI (CONTRACT §11: an unknown or
 * inactive client, a missing or unregistered redirect URI): an HTML error page (400), never a redirect
 * (RFC 6749 §4.1.2.1 — redirecting there would make the server an open redirector).
 */
export class AuthorizationPageError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
    readonly internalReason?: string,
  ) {
    super(`${error}: ${description}`);
    this.name = 'AuthorizationPageError';
  }
}

/** A request whose client and redirect URI are known good; further errors go back to `redirectUri`. */
export interface ValidatedAuthorizationRequest extends ConsentRequest {
  params: AuthorizationParams;
  state?: string;
  client: Agent;
  clientParent: Agent | null;
  target: TokenTarget;
}

/**
 * The query of `GET /auth/authorize` as parameters: every known parameter at most once (a repeated
 * `client_id` or `redirect_uri` is a page error, any other a redirect error — RFC 6749 §3.1), unknown ones
 * ignored (RFC 6749 §3.1).
 */
export function parseAuthorizationQuery(search: string): { params: AuthorizationParams; repeated: string[] } {
  const query = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const params: AuthorizationParams = {};
  const repeated: string[] = [];
  for (const name of AUTHORIZATION_PARAMS) {
    const values = query.getAll(name);
    if (values.length > 1) repeated.push(name);
    if (values.length > 0 && values[0] !== '') params[name] = values[0];
  }
  return { params, repeated };
}

/**
 * THE checks of an authorization request (CONTRACT §11), in RFC 6749 §4.1.2.1's order: first what decides
 * whether the client can be answered at all (client, redirect URI: `AuthorizationPageError`), then
 * everything else as `AuthorizationRedirectError` (sent back to the redirect URI with `state` and `iss`).
 */
@Injectable()
export class AuthorizationRequestValidator {
  constructor(
    private readonly agents: AgentsService,
    private readonly targets: TokenTargets,
    private readonly registry: ScopeRegistry,
  ) {}

  async validate(
    params: AuthorizationParams,
    repeated: readonly string[],
    origin: { ip: string; requestId?: string },
  ): Promise<ValidatedAuthorizationRequest> {
    const { client, clientParent, redirectUri } = await this.clientAndRedirect(params, repeated);
    const state = params.state;
    if (repeated.length > 0) {
      throw new AuthorizationRedirectError('invalid_request', `Repeated parameter: ${repeated.join(', ')}`);
    }
    const tooLong = AUTHORIZATION_PARAMS.find((name) => (params[name]?.length ?? 0) > MAX_PARAM_LENGTH);
    if (tooLong)
      throw new AuthorizationRedirectError('invalid_request', `The parameter ${tooLong} is too long`);
    if (params.response_type !== 'code') {
      throw new AuthorizationRedirectError(
        params.response_type === undefined ? 'invalid_request' : 'unsupported_response_type',
        'response_type must be "code"',
      );
    }
    if (params.code_challenge === undefined) {
      throw new AuthorizationRedirectError('invalid_request', 'code_challenge is required (PKCE, RFC 7636)');
    }
    if (params.code_challenge_method !== 'S256') {
      throw new AuthorizationRedirectError(
        'invalid_request',
        'code_challenge_method must be S256 (plain is not supported)',
      );
    }
    if (!S256_CHALLENGE.test(params.code_challenge)) {
      throw new AuthorizationRedirectError(
        'invalid_request',
        'code_challenge must be the 43-character base64url SHA-256 of the code verifier',
      );
    }
    const requested = parseScopeRequest(params.scope).scopes;
    const invalid = requested.filter((s) => !isValidScopeName(s));
    if (invalid.length > 0) {
      throw new AuthorizationRedirectError(
        'invalid_scope',
        'The scope parameter holds an invalid scope name',
      );
    }
    const unregistered = await this.registry.unregistered(client.rootAgentId, requested);
    if (unregistered.length > 0) {
      throw new AuthorizationRedirectError('invalid_scope', `Unknown scope(s): ${unregistered.join(' ')}`);
    }
    let target: TokenTarget;
    try {
      target = await this.targets.resolve(
        params.resource ? { resource: params.resource } : {},
        client.rootAgentId,
      );
    } catch (error) {
      if (error instanceof OAuthError) throw new AuthorizationRedirectError(error.error, error.description);
      throw error;
    }
    return {
      params,
      ...(state !== undefined ? { state } : {}),
      client,
      clientParent,
      redirectUri,
      codeChallenge: params.code_challenge,
      ...(requested.length > 0 ? { requestedScopes: requested } : {}),
      target,
      ip: origin.ip,
      ...(origin.requestId ? { requestId: origin.requestId } : {}),
    };
  }

  /** The client (an active agent) and a redirect URI registered for it, or an error page. */
  private async clientAndRedirect(
    params: AuthorizationParams,
    repeated: readonly string[],
  ): Promise<{ client: Agent; clientParent: Agent | null; redirectUri: string }> {
    if (repeated.includes('client_id') || repeated.includes('redirect_uri')) {
      throw new AuthorizationPageError('invalid_request', 'client_id and redirect_uri may be sent only once');
    }
    const clientId = params.client_id?.toLowerCase();
    if (!clientId) throw new AuthorizationPageError('invalid_request', 'client_id is required');
    const activity = isUuid(clientId) ? await this.agents.getActivity(clientId) : null;
    if (!activity || !activity.active) {
      throw new AuthorizationPageError(
        'invalid_client',
        'The client is unknown or not active',
        400,
        activity ? `client_${activity.reason ?? 'inactive'}` : 'unknown_client',
      );
    }
    const client = activity.agent;
    const redirectUri = params.redirect_uri;
    if (!redirectUri) throw new AuthorizationPageError('invalid_request', 'redirect_uri is required');
    if (!matchRedirectUri(client.redirectUris, redirectUri)) {
      throw new AuthorizationPageError(
        'invalid_request',
        'The redirect_uri is not registered for this client',
        400,
        'unregistered_redirect_uri',
      );
    }
    const clientParent = client.parentAgentId
      ? ((await this.agents.getActivity(client.parentAgentId))?.agent ?? null)
      : null;
    return { client, clientParent, redirectUri };
  }
}

/** The redirect back to the client (RFC 6749 §4.1.2, RFC 9207 `iss`): its parameters appended to its query. */
export function clientRedirect(redirectUri: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, value);
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${query.toString()}`;
}
