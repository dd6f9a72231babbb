/**
 * Redirect URIs of OAuth clients (CONTRACT §11; RFC 6749 §3.1.2, RFC 8252 §7, OAuth 2.1 §2.3.1). THE rules,
 * used where an agent's `redirect_uris` are written and where `GET /auth/authorize` compares the presented
 * `redirect_uri` with them:
 * - `https://…`: compared as an exact string;
 * - `http://` only on the loopback hosts `127.0.0.1`, `[::1]` and `localhost` (host compared literally), the
 *   port ignored at match time (a native app listens on an ephemeral port, RFC 8252 §7.3), path and query
 *   exact;
 * - a private-use scheme containing a dot (`com.example.app:/callback`, RFC 8252 §7.1): exact string;
 * - never a fragment, never user information, never `javascript:`, `data:` or any other scheme.
 */

export const MAX_REDIRECT_URIS = 10;
export const MAX_REDIRECT_URI_LENGTH = 2000;

export type OAuthClientType = 'confidential' | 'public';
export const CLIENT_TYPES: readonly OAuthClientType[] = ['confidential', 'public'];

/** Printable ASCII only: no whitespace, no control character, no non-ASCII look-alike. */
const PRINTABLE = /^[\x21-\x7e]+$/;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
/** `http://<loopback host>[:port]<path and query>` split into host, port and the rest. */
const LOOPBACK_HTTP = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?([/?][^#]*)?$/;

interface LoopbackParts {
  host: string;
  rest: string;
}

function loopbackParts(uri: string): LoopbackParts | null {
  const match = LOOPBACK_HTTP.exec(uri);
  if (!match) return null;
  if (match[2] !== undefined && Number(match[2]) > 65535) return null;
  return { host: match[1], rest: match[3] ?? '' };
}

/** Why `uri` cannot be a registered redirect URI, or `null` when it can. */
export function redirectUriProblem(uri: unknown): string | null {
  if (typeof uri !== 'string' || uri.length === 0) return 'must be a non-empty string';
  if (uri.length > MAX_REDIRECT_URI_LENGTH) return `must be at most ${MAX_REDIRECT_URI_LENGTH} characters`;
  if (!PRINTABLE.test(uri)) return 'must be printable ASCII without spaces';
  if (uri.includes('#')) return 'must not contain a fragment';
  const scheme = SCHEME.exec(uri)?.[1];
  if (!scheme) return 'must be an absolute URI';
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return 'must be an absolute URI';
  }
  if (parsed.username !== '' || parsed.password !== '') return 'must not contain user information';
  const lower = scheme.toLowerCase();
  if (lower === 'https') {
    if (scheme !== 'https') return 'the scheme must be written in lower case';
    if (!parsed.hostname) return 'https URIs need a host';
    return null;
  }
  if (lower === 'http') {
    if (!loopbackParts(uri)) {
      return 'http is allowed only on the loopback hosts 127.0.0.1, [::1] and localhost (RFC 8252 §7.3)';
    }
    return null;
  }
  // A private-use scheme: reverse domain name notation, so it contains a dot (RFC 8252 §7.1). This also
  // refuses javascript:, data:, file:, vbscript: and every other dotless scheme.
  if (!lower.includes('.')) {
    return 'only https, loopback http or a private-use scheme containing a dot (com.example.app:/cb) are allowed';
  }
  return null;
}

/** Is `presented` one of `registered` under the rules above (exact, or loopback http with any port)? */
export function matchRedirectUri(registered: readonly string[], presented: string): boolean {
  if (typeof presented !== 'string' || redirectUriProblem(presented) !== null) return false;
  if (registered.includes(presented)) return true;
  const loopback = loopbackParts(presented);
  if (!loopback) return false;
  return registered.some((candidate) => {
    const parts = loopbackParts(candidate);
    return parts !== null && parts.host === loopback.host && parts.rest === loopback.rest;
  });
}
