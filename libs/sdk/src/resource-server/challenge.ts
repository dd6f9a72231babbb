import { TokenVerificationError, type TokenVerifier, type VerifiedToken } from './verifier.js';

export interface ChallengeParams {
  /** `Bearer` (RFC 6750) or `DPoP` (RFC 9449). Default `Bearer`. */
  scheme?: string;
  realm?: string;
  /** RFC 9728 §5.1: the URL of this resource's protected-resource metadata. */
  resourceMetadata?: string;
  error?: string;
  errorDescription?: string;
  scope?: string | string[];
}

/** A quoted-string (RFC 9110 §5.6.4): backslash and quote escaped, control characters dropped. */
function quoted(value: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, '').replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * A `WWW-Authenticate` challenge: `Bearer resource_metadata="…", error="invalid_token", …`
 * (RFC 6750 §3, RFC 9728 §5.1).
 */
export function wwwAuthenticate(params: ChallengeParams = {}): string {
  const parts: string[] = [];
  if (params.realm !== undefined) parts.push(`realm=${quoted(params.realm)}`);
  if (params.resourceMetadata !== undefined)
    parts.push(`resource_metadata=${quoted(params.resourceMetadata)}`);
  if (params.error !== undefined) parts.push(`error=${quoted(params.error)}`);
  if (params.errorDescription !== undefined)
    parts.push(`error_description=${quoted(params.errorDescription)}`);
  if (params.scope !== undefined) {
    parts.push(`scope=${quoted(Array.isArray(params.scope) ? params.scope.join(' ') : params.scope)}`);
  }
  const scheme = params.scheme ?? 'Bearer';
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`;
}

export interface ProtectionOptions {
  /** Scopes this route needs on top of the verifier's. */
  requiredScopes?: string[];
  /** Where clients find this resource's RFC 9728 metadata (sent in every 401 challenge). */
  resourceMetadataUrl?: string;
  realm?: string;
}

/** An HTTP refusal: status, `WWW-Authenticate` and the RFC 6750 error body. */
export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

/** The Bearer token of an `Authorization` header value, or a refusal reason. */
export function bearerTokenOf(
  header: string | string[] | undefined,
): string | TokenVerificationError | undefined {
  if (header === undefined || header === '') return undefined;
  if (Array.isArray(header)) {
    return new TokenVerificationError('invalid_request', 'more than one Authorization header');
  }
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match ? match[1] : undefined;
}

/** The refusal for a failed verification (or for no credentials at all, `error` undefined: RFC 6750 §3.1). */
export function refusalFor(error: TokenVerificationError | undefined, options: ProtectionOptions): Refusal {
  const challenge = wwwAuthenticate({
    realm: options.realm,
    resourceMetadata: options.resourceMetadataUrl,
    error: error?.code,
    errorDescription: error?.message,
    scope: error?.code === 'insufficient_scope' ? error.requiredScopes : undefined,
  });
  return {
    status: error?.status ?? 401,
    headers: { 'WWW-Authenticate': challenge, 'Cache-Control': 'no-store' },
    body: {
      error: error?.code ?? 'invalid_token',
      error_description: error?.message ?? 'access token required',
    },
  };
}

/**
 * Authenticates one request from its Authorization header: the verified token, or the refusal to send.
 * Failures that are not the token's fault (JWKS or introspection unreachable) are thrown: fail closed, as a
 * server error.
 */
export async function authenticate(
  verifier: TokenVerifier,
  authorization: string | string[] | undefined,
  options: ProtectionOptions = {},
): Promise<{ ok: true; token: VerifiedToken } | { ok: false; refusal: Refusal }> {
  const token = bearerTokenOf(authorization);
  if (token === undefined) return { ok: false, refusal: refusalFor(undefined, options) };
  if (token instanceof TokenVerificationError) return { ok: false, refusal: refusalFor(token, options) };
  try {
    return { ok: true, token: await verifier.verify(token, { requiredScopes: options.requiredScopes }) };
  } catch (error) {
    if (error instanceof TokenVerificationError) return { ok: false, refusal: refusalFor(error, options) };
    throw error;
  }
}
