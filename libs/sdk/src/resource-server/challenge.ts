import { DPOP_ALGORITHMS } from './dpop.js';
import {
  type PresentedRequest,
  TokenVerificationError,
  type TokenVerifier,
  type VerifiedToken,
} from './verifier.js';

export interface ChallengeParams {
  /** `Bearer` (RFC 6750) or `DPoP` (RFC 9449). Default `Bearer`. */
  scheme?: string;
  realm?: string;
  /** RFC 9728 §5.1: the URL of this resource's protected-resource metadata. */
  resourceMetadata?: string;
  error?: string;
  errorDescription?: string;
  scope?: string | string[];
  /** RFC 9449 §7.1: the proof algorithms accepted (DPoP challenges). */
  algs?: string[];
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
  if (params.algs !== undefined) parts.push(`algs=${quoted(params.algs.join(' '))}`);
  const scheme = params.scheme ?? 'Bearer';
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`;
}

export interface ProtectionOptions {
  /** Scopes this route needs on top of the verifier's. */
  requiredScopes?: string[];
  /** Where clients find this resource's RFC 9728 metadata (sent in every 401 challenge). */
  resourceMetadataUrl?: string;
  realm?: string;
  /**
   * This server's public origin as clients call it (e.g. `https://api.example.com`): a DPoP proof's `htu`
   * must be it + the request path. Default: the request's protocol and Host header — right only when no
   * proxy rewrites them.
   */
  publicOrigin?: string;
}

/** An HTTP refusal: status, `WWW-Authenticate` and the RFC 6750 error body. */
export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

/** The token and scheme (`Bearer`, or `DPoP` RFC 9449 §7.1) of an `Authorization` header, or a refusal reason. */
export function credentialsOf(
  header: string | string[] | undefined,
): { scheme: 'Bearer' | 'DPoP'; token: string } | TokenVerificationError | undefined {
  if (header === undefined || header === '') return undefined;
  if (Array.isArray(header)) {
    return new TokenVerificationError('invalid_request', 'more than one Authorization header');
  }
  const match = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (!match) return undefined;
  return { scheme: match[1].toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2] };
}

/** The Bearer token of an `Authorization` header value, or a refusal reason. */
export function bearerTokenOf(
  header: string | string[] | undefined,
): string | TokenVerificationError | undefined {
  const credentials = credentialsOf(header);
  if (credentials === undefined || credentials instanceof TokenVerificationError) return credentials;
  return credentials.scheme === 'Bearer' ? credentials.token : undefined;
}

/** The parts of an HTTP request a DPoP check reads (Express, Connect, Nest on Express). */
export interface RequestLike {
  headers: Record<string, string | string[] | undefined>;
  method?: string;
  /** Express: the path and query as received, before any router mount stripped a prefix. */
  originalUrl?: string;
  url?: string;
  /** Express: `http` or `https` (honours `trust proxy`). */
  protocol?: string;
}

/** The URL a client called, as a DPoP proof's `htu` names it: the public origin + the request path. */
export function requestUrlOf(
  req: RequestLike,
  options: Pick<ProtectionOptions, 'publicOrigin'> = {},
): string {
  const path = req.originalUrl ?? req.url ?? '/';
  const host = Array.isArray(req.headers.host) ? req.headers.host[0] : req.headers.host;
  const origin = options.publicOrigin ?? `${req.protocol ?? 'http'}://${host ?? 'localhost'}`;
  return new URL(path, new URL(origin).origin).href;
}

/** What `authenticate` needs of a request for DPoP: the proof header, the method and the URL. */
export function presentedRequestOf(
  req: RequestLike,
  options: Pick<ProtectionOptions, 'publicOrigin'> = {},
): Omit<PresentedRequest, 'scheme'> {
  return { proof: req.headers.dpop, method: req.method ?? 'GET', url: requestUrlOf(req, options) };
}

/** The refusal for a failed verification (or for no credentials at all, `error` undefined: RFC 6750 §3.1). */
export function refusalFor(error: TokenVerificationError | undefined, options: ProtectionOptions): Refusal {
  const dpop = error?.scheme === 'DPoP';
  const challenge = wwwAuthenticate({
    scheme: dpop ? 'DPoP' : 'Bearer',
    realm: options.realm,
    resourceMetadata: options.resourceMetadataUrl,
    error: error?.code,
    errorDescription: error?.message,
    scope: error?.code === 'insufficient_scope' ? error.requiredScopes : undefined,
    algs: dpop ? [...DPOP_ALGORITHMS] : undefined,
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
 * Authenticates one request from its Authorization header (`Bearer`, or `DPoP` with the proof, method and URL
 * of `request`): the verified token, or the refusal to send. Without `request`, a DPoP-bound token is refused.
 * Failures that are not the token's fault (JWKS or introspection unreachable) are thrown: fail closed, as a
 * server error.
 */
export async function authenticate(
  verifier: TokenVerifier,
  authorization: string | string[] | undefined,
  options: ProtectionOptions = {},
  request?: Omit<PresentedRequest, 'scheme'>,
): Promise<{ ok: true; token: VerifiedToken } | { ok: false; refusal: Refusal }> {
  const credentials = credentialsOf(authorization);
  if (credentials === undefined) return { ok: false, refusal: refusalFor(undefined, options) };
  if (credentials instanceof TokenVerificationError) {
    return { ok: false, refusal: refusalFor(credentials, options) };
  }
  const presented: PresentedRequest | undefined =
    request || credentials.scheme === 'DPoP'
      ? { scheme: credentials.scheme, method: '', url: '', ...request }
      : undefined;
  try {
    return {
      ok: true,
      token: await verifier.verify(credentials.token, {
        requiredScopes: options.requiredScopes,
        request: presented,
      }),
    };
  } catch (error) {
    if (error instanceof TokenVerificationError) return { ok: false, refusal: refusalFor(error, options) };
    throw error;
  }
}
