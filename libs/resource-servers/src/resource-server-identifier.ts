import type { FieldError } from '@agentauth/core';

export const MAX_IDENTIFIER_LENGTH = 512;
// Printable ASCII without spaces: one RFC 3986 URI, compared as an exact string.
const URI_CHARS = /^[\x21-\x7e]+$/;
const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

export interface IdentifierRules {
  /** `PUBLIC_BASE_URL`: identifiers on the issuer's own origin are refused. */
  publicBaseUrl: string;
  production: boolean;
}

/**
 * THE identifier rule of CONTRACT §8: an absolute `https` URI without fragment or user info (`http` only on
 * a loopback host, and never in production), at most 512 characters of printable ASCII, not on the
 * issuer's own origin (the management API is that origin's resource server, and its metadata lives there).
 * The identifier is stored and compared exactly as sent (no normalization). Returns the problems found.
 */
export function identifierProblems(identifier: string, rules: IdentifierRules): FieldError[] {
  const refuse = (message: string): FieldError[] => [{ field: 'identifier', message }];
  if (identifier.length === 0 || identifier.length > MAX_IDENTIFIER_LENGTH) {
    return refuse(`must be 1 to ${MAX_IDENTIFIER_LENGTH} characters`);
  }
  if (!URI_CHARS.test(identifier)) return refuse('must be a URI of printable ASCII without spaces');
  if (identifier.includes('#')) return refuse('must not have a fragment (RFC 8707 §2)');
  let url: URL;
  try {
    url = new URL(identifier);
  } catch {
    return refuse('must be an absolute URI');
  }
  if (url.username !== '' || url.password !== '') return refuse('must not carry user information');
  if (url.protocol === 'http:') {
    if (rules.production || !isLoopbackHost(url.hostname)) {
      return refuse('must use https (http only on a loopback host outside production)');
    }
  } else if (url.protocol !== 'https:') {
    return refuse('must be an https URI');
  }
  if (url.origin === new URL(rules.publicBaseUrl).origin) {
    return refuse("must not be on this authorization server's own origin");
  }
  return [];
}
