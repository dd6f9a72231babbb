import { InvalidTargetError } from './oauth-errors';

const MAX_AUDIENCE_LENGTH = 512;
// Printable ASCII without spaces: an audience is one token (RFC 8693 §2.1 "logical name").
const AUDIENCE_CHARS = /^[\x21-\x7e]+$/;

/** RFC 8707 §2: an absolute URI without a fragment. */
function isResourceIndicator(value: string): boolean {
  if (value.includes('#') || !AUDIENCE_CHARS.test(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol.length > 1;
  } catch {
    return false;
  }
}

/**
 * The audience a token request names itself: RFC 8707 `resource` or RFC 8693 `audience` (one value; both
 * only when equal), or `undefined` when it names none. Anything unacceptable is `invalid_target`.
 */
export function namedAudience(params: Record<string, string>): string | undefined {
  const { resource, audience } = params;
  if (resource !== undefined) {
    if (resource.length > MAX_AUDIENCE_LENGTH || !isResourceIndicator(resource)) {
      throw new InvalidTargetError('resource must be an absolute URI without a fragment');
    }
  }
  if (audience !== undefined) {
    if (audience.length === 0 || audience.length > MAX_AUDIENCE_LENGTH || !AUDIENCE_CHARS.test(audience)) {
      throw new InvalidTargetError('audience must be one non-empty value without spaces');
    }
  }
  if (resource !== undefined && audience !== undefined && resource !== audience) {
    throw new InvalidTargetError('A token has one audience: resource and audience differ');
  }
  return resource ?? audience;
}

/** The `aud` of a token request: the audience it names (`namedAudience`), else `defaultAudience`. */
export function requestedAudience(params: Record<string, string>, defaultAudience: string): string {
  return namedAudience(params) ?? defaultAudience;
}

/**
 * The resource the issuance policy evaluates each scope with (CONTRACT §6: "the request's audience as
 * resource, `*` when none"), or `null` for `*`:
 * - the audience the request names, literally — the issuer's default audience included;
 * - else, for a grant that continues an earlier one (a refresh: the family's audience; an exchange: the
 *   subject token's), that grant's audience — unless it is the issuer's default, which such a grant also
 *   carries when its own request named none, so it counts as none (`*`, the fail-closed reading);
 * - else `null`.
 */
export function policyResource(
  params: Record<string, string>,
  defaultAudience: string,
  inheritedAudience?: string,
): string | null {
  const named = namedAudience(params);
  if (named !== undefined) return named;
  if (inheritedAudience !== undefined && inheritedAudience !== defaultAudience) return inheritedAudience;
  return null;
}
