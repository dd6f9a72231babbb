/** The label value that replaces anything unexpected, so a metric's series count stays bounded. */
export const OTHER = 'other';

const SAFE_VALUE = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Label values supplied by code (grant types, failure reasons, limiter kinds) are bounded twice: a value
 * must look like a code (no spaces, ids are not codes but still pass — callers never pass ids), and after
 * `maxValues` distinct values every new one becomes `other`. A bug that passes an id can cost at most
 * `maxValues` series, never one per request.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  constructor(
    private readonly maxValues: number,
    private readonly known: readonly string[] = [],
  ) {
    for (const value of known) this.seen.add(value);
  }

  value(raw: string | undefined | null): string {
    if (!raw || !SAFE_VALUE.test(raw)) return OTHER;
    if (this.seen.has(raw)) return raw;
    if (this.seen.size >= this.maxValues + this.known.length) return OTHER;
    this.seen.add(raw);
    return raw;
  }
}

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Express passes any method token a client sends; only the standard ones become label values. */
export function methodLabel(method: string): string {
  return HTTP_METHODS.has(method) ? method : 'OTHER';
}

/** Grant types by their short name, whichever spelling the client used (CONTRACT §4). */
const GRANT_TYPES: Record<string, string> = {
  client_credentials: 'client_credentials',
  refresh_token: 'refresh_token',
  agent_delegation: 'agent_delegation',
  'urn:agentauth:grant-type:agent_delegation': 'agent_delegation',
  token_exchange: 'token_exchange',
  'urn:ietf:params:oauth:grant-type:token-exchange': 'token_exchange',
};

export function grantTypeLabel(grantType: string): string {
  return GRANT_TYPES[grantType] ?? OTHER;
}
