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
 * only when equal), or `undefined` when it names none. Anything unacceptable is `invalid_target` (a repeated
 * parameter — several resources — is refused as `invalid_target` when the body is parsed).
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
