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
 * The `aud` of a token request: RFC 8707 `resource` or RFC 8693 `audience` (one value; both only when
 * equal), else the server's default audience. Anything unacceptable is `invalid_target`.
 */
export function requestedAudience(params: Record<string, string>, defaultAudience: string): string {
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
  return resource ?? audience ?? defaultAudience;
}
