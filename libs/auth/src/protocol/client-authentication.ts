import type { Request } from 'express';
import { JWT_BEARER_ASSERTION_TYPE } from '../vocabulary/client-auth-methods';
import { InvalidClientError, InvalidRequestError } from '../vocabulary/oauth-errors';

export interface PresentedSecret {
  /** Normalized (`normalizedClientId`). */
  clientId: string;
  clientSecret: string;
  method: 'client_secret_basic' | 'client_secret_post';
}

/** `private_key_jwt`: the assertion, and the `client_id` parameter when one was sent (it must equal `iss`). */
export interface PresentedAssertion {
  assertion: string;
  clientId?: string;
  method: 'private_key_jwt';
}

export type PresentedClientCredentials = PresentedSecret | PresentedAssertion;

const MAX_CREDENTIAL_LENGTH = 512;

/** RFC 6749 §2.3.1 / Appendix B: the id and secret inside Basic are form-urlencoded by the client. */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw new InvalidClientError('malformed_basic_encoding');
  }
}

/** Parses `Authorization: Basic …` into id and secret, or undefined when no Basic header is present. */
export function parseBasicAuthorization(
  header: string | undefined,
): { clientId: string; clientSecret: string } | undefined {
  if (!header || !/^Basic /i.test(header.trim())) return undefined;
  const match = /^Basic +([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!match) throw new InvalidClientError('malformed_basic_header');
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new InvalidClientError('malformed_basic_header');
  const clientId = formDecode(decoded.slice(0, colon));
  const clientSecret = formDecode(decoded.slice(colon + 1));
  if (
    !clientId ||
    !clientSecret ||
    clientId.length > MAX_CREDENTIAL_LENGTH ||
    clientSecret.length > MAX_CREDENTIAL_LENGTH
  ) {
    throw new InvalidClientError('malformed_basic_credentials');
  }
  return { clientId, clientSecret };
}

/**
 * THE normal form of a presented `client_id`: agent ids are UUIDs, compared lower-case (the one place a
 * client id is lower-cased; the assertion verifier compares `client_id` with the JWT's `iss` as sent).
 */
export function normalizedClientId(raw: string): string {
  return raw.toLowerCase();
}

/**
 * What a token, introspection or revocation request presents to authenticate its client, parsed once:
 * - `claimedClientId`: who it claims to be — the Basic or body `client_id`, else the client assertion's
 *   UNVERIFIED `iss`, normalized; undefined when it names none or its Basic header is malformed. Never
 *   throws: for the audit of requests refused before client authentication (only a claim: anyone can type
 *   any id);
 * - `credentials()`: the credentials (`PresentedClientCredentials`, undefined when none), or the refusal a
 *   malformed presentation is, thrown.
 */
export interface PresentedClient {
  readonly claimedClientId: string | undefined;
  credentials(): PresentedClientCredentials | undefined;
}

export function presentedClient(req: Request, params: Record<string, string | undefined>): PresentedClient {
  let basic: { clientId: string; clientSecret: string } | undefined;
  let basicError: Error | undefined;
  try {
    basic = parseBasicAuthorization(req.headers.authorization);
  } catch (error) {
    basicError = error instanceof Error ? error : new Error(String(error));
  }
  const claimed =
    basicError !== undefined
      ? undefined
      : (basic?.clientId ??
        params.client_id ??
        (typeof params.client_assertion === 'string'
          ? unverifiedIssuer(params.client_assertion)
          : undefined));
  return {
    claimedClientId: claimed === undefined ? undefined : normalizedClientId(claimed),
    credentials: () => {
      if (basicError !== undefined) throw basicError;
      return credentialsOf(basic, params);
    },
  };
}

/**
 * The client credentials of a token, introspection or revocation request: HTTP Basic
 * (`client_secret_basic`), body fields (`client_secret_post`) or a client assertion (`private_key_jwt`,
 * RFC 7523 §2.2). Two at once is refused with `invalid_request` (RFC 6749 §2.3: a client MUST NOT use more
 * than one authentication method per request).
 */
export function presentedClientCredentials(
  req: Request,
  params: Record<string, string | undefined>,
): PresentedClientCredentials | undefined {
  return presentedClient(req, params).credentials();
}

function credentialsOf(
  basic: { clientId: string; clientSecret: string } | undefined,
  params: Record<string, string | undefined>,
): PresentedClientCredentials | undefined {
  const postId = params.client_id;
  const postSecret = params.client_secret;
  const assertionSent = params.client_assertion !== undefined || params.client_assertion_type !== undefined;
  if ([basic !== undefined, postSecret !== undefined, assertionSent].filter(Boolean).length > 1) {
    throw new InvalidRequestError('Use only one client authentication method');
  }
  if (assertionSent) {
    const assertion = params.client_assertion;
    if (params.client_assertion_type !== JWT_BEARER_ASSERTION_TYPE || !assertion) {
      throw new InvalidClientError('malformed_client_assertion');
    }
    return { assertion, ...(postId !== undefined ? { clientId: postId } : {}), method: 'private_key_jwt' };
  }
  if (basic) {
    if (postId !== undefined && postId !== basic.clientId) {
      throw new InvalidRequestError('client_id does not match the authenticated client');
    }
    return { ...basic, clientId: normalizedClientId(basic.clientId), method: 'client_secret_basic' };
  }
  if (postSecret !== undefined) {
    if (!postId || postId.length > MAX_CREDENTIAL_LENGTH || postSecret.length > MAX_CREDENTIAL_LENGTH) {
      throw new InvalidClientError('malformed_post_credentials');
    }
    return { clientId: normalizedClientId(postId), clientSecret: postSecret, method: 'client_secret_post' };
  }
  return undefined;
}

/** The `iss` of a client assertion, UNVERIFIED (who it claims to be, for audit targets only). */
export function unverifiedIssuer(assertion: string): string | undefined {
  const payload = assertion.split('.')[1];
  if (!payload || payload.length > 8192) return undefined;
  try {
    const iss = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown }).iss;
    return typeof iss === 'string' ? iss : undefined;
  } catch {
    return undefined;
  }
}
