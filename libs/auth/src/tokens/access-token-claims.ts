import { type ActClaim, isLowerCaseUuid, type Principal } from '@agentauth/core';
import type { VerifiedClaims } from '@agentauth/keys';
import { isRevocationKind, type RevocationRef } from '@agentauth/revocation';
import { isValidScopeName, parseScopeParam } from '@agentauth/scopes';

/** `agent` claim (CONTRACT §4): describes `client_id`, the acting agent. */
export interface AgentClaim {
  trust_level: 'root' | 'delegated' | 'ephemeral';
  root_agent_id: string;
  version: string | null;
  capabilities: string[];
}

/**
 * The claims of an AgentAuth access token (RFC 9068 + CONTRACT §4 + AgentAuth's own, docs/tokens.md):
 * - `auth_time`: when the client's credential (and its agent chain) was last checked against the database,
 *   in seconds with millisecond precision: `agent` revocation markers are compared with it (a token minted
 *   from a state read before a suspension committed dies with the suspension's marker, whatever its `iat`);
 * - `cid`: the credential the client authenticated with (a revoked credential kills its tokens);
 * - `fam`: the refresh-token family the token descends from;
 * - `subject_refs`: for exchanged tokens, every revocation reference of the subject token (`kind:id`), so
 *   the new token dies with its subject;
 * - `resource_server_id`: for a token bound to a registered resource server (`aud` = its identifier), the
 *   server's id: deleting the server kills the token (a `resource_server` marker), and a new registration
 *   of the same identifier (a new id) revives nothing.
 */
export interface AccessTokenClaims extends VerifiedClaims {
  aud: string | string[];
  client_id: string;
  scope: string;
  agent: AgentClaim;
  auth_time: number;
  cid?: string;
  fam?: string;
  act?: ActClaim;
  delegation_id?: string;
  subject_refs?: string[];
  resource_server_id?: string;
  /** DPoP-bound (RFC 9449 §6): the thumbprint of the key every use must prove possession of. */
  cnf?: { jkt: string };
}

/** `DPoP` for a bound token, `Bearer` otherwise (token responses, introspection). */
export function tokenTypeOf(claims: Pick<AccessTokenClaims, 'cnf'>): 'DPoP' | 'Bearer' {
  return claims.cnf ? 'DPoP' : 'Bearer';
}

/** Deepest `act` nesting accepted (and produced by token exchange). */
export const MAX_ACT_DEPTH = 8;
/** Most revocation references an exchanged token carries from its subject. */
export const MAX_SUBJECT_REFS = 64;

const TRUST_LEVELS = new Set(['root', 'delegated', 'ephemeral']);

/** Claims present but not shaped as this server writes them (never the case for a token it signed). */
export class MalformedClaimsError extends Error {
  constructor(readonly claim: string) {
    super(`malformed claim: ${claim}`);
    this.name = 'MalformedClaimsError';
  }
}

function actDepthOf(act: unknown, depth = 1): number {
  if (depth > MAX_ACT_DEPTH) throw new MalformedClaimsError('act');
  if (typeof act !== 'object' || act === null || Array.isArray(act)) throw new MalformedClaimsError('act');
  const { sub, client_id, act: inner } = act as Record<string, unknown>;
  if (!isLowerCaseUuid(sub)) throw new MalformedClaimsError('act');
  if (client_id !== undefined && !isLowerCaseUuid(client_id)) throw new MalformedClaimsError('act');
  return inner === undefined ? depth : actDepthOf(inner, depth + 1);
}

/** Number of actors in an `act` chain (0 without one). */
export function actDepth(act: ActClaim | undefined): number {
  return act === undefined ? 0 : actDepthOf(act);
}

/** `kind:id` (the `subject_refs` form) ↔ RevocationRef. */
export function formatRef(ref: RevocationRef): string {
  return `${ref.kind}:${ref.id}`;
}

export function parseRef(value: unknown): RevocationRef {
  if (typeof value !== 'string') throw new MalformedClaimsError('subject_refs');
  const colon = value.indexOf(':');
  const kind = value.slice(0, colon);
  const id = value.slice(colon + 1);
  if (colon <= 0 || !isRevocationKind(kind) || id.length === 0 || id.length > 200) {
    throw new MalformedClaimsError('subject_refs');
  }
  return { kind, id };
}

/**
 * Checks that verified claims have the shapes this server writes (a token it signed always does; anything
 * else is refused rather than half-trusted) and returns them typed.
 */
export function parseAccessTokenClaims(payload: VerifiedClaims): AccessTokenClaims {
  // Id claims are lower-case UUIDs, as this server writes them: a mixed-case id is refused, never normalized.
  const claims = payload as Partial<AccessTokenClaims> & VerifiedClaims;
  if (!isLowerCaseUuid(claims.sub)) throw new MalformedClaimsError('sub');
  if (!isLowerCaseUuid(claims.client_id)) throw new MalformedClaimsError('client_id');
  if (typeof claims.scope !== 'string') throw new MalformedClaimsError('scope');
  if (!parseScopeParam(claims.scope).every(isValidScopeName)) throw new MalformedClaimsError('scope');
  const aud = claims.aud;
  if (!(typeof aud === 'string' || (Array.isArray(aud) && aud.every((a) => typeof a === 'string')))) {
    throw new MalformedClaimsError('aud');
  }
  const agent = claims.agent;
  if (
    typeof agent !== 'object' ||
    agent === null ||
    !TRUST_LEVELS.has(agent.trust_level) ||
    !isLowerCaseUuid(agent.root_agent_id) ||
    !Array.isArray(agent.capabilities)
  ) {
    throw new MalformedClaimsError('agent');
  }
  if (
    typeof claims.auth_time !== 'number' ||
    !Number.isFinite(claims.auth_time) ||
    claims.auth_time <= 0 ||
    claims.auth_time >= claims.iat + 1
  ) {
    throw new MalformedClaimsError('auth_time');
  }
  if (claims.cid !== undefined && !isLowerCaseUuid(claims.cid)) throw new MalformedClaimsError('cid');
  if (claims.fam !== undefined && !isLowerCaseUuid(claims.fam)) throw new MalformedClaimsError('fam');
  if (claims.delegation_id !== undefined && !isLowerCaseUuid(claims.delegation_id)) {
    throw new MalformedClaimsError('delegation_id');
  }
  if (claims.resource_server_id !== undefined && !isLowerCaseUuid(claims.resource_server_id)) {
    throw new MalformedClaimsError('resource_server_id');
  }
  if (claims.act !== undefined) actDepthOf(claims.act);
  if (claims.cnf !== undefined) {
    const cnf = claims.cnf as unknown;
    if (
      typeof cnf !== 'object' ||
      cnf === null ||
      typeof (cnf as { jkt?: unknown }).jkt !== 'string' ||
      !/^[A-Za-z0-9_-]{43}$/.test((cnf as { jkt: string }).jkt)
    ) {
      throw new MalformedClaimsError('cnf');
    }
  }
  if (claims.subject_refs !== undefined) {
    if (!Array.isArray(claims.subject_refs) || claims.subject_refs.length > MAX_SUBJECT_REFS) {
      throw new MalformedClaimsError('subject_refs');
    }
    claims.subject_refs.forEach(parseRef);
  }
  return claims as AccessTokenClaims;
}

/** Every `act.sub` of a (nested) `act` claim, outermost first. */
export function actSubjects(act: ActClaim | undefined): string[] {
  const subs: string[] = [];
  for (let a = act; a !== undefined && subs.length <= MAX_ACT_DEPTH; a = a.act) subs.push(a.sub);
  return subs;
}

/**
 * THE list of what a token dies with (CONTRACT §4): its `jti`, its credential, the agents it names (actor,
 * subject and every actor of its `act` chain — suspending a middle delegate kills the tokens minted through
 * it), its refresh family, its delegation, its resource server (CONTRACT §8) and, for an exchanged token, everything its subject token
 * referenced. De-duplicated.
 */
export function revocationRefsOf(claims: AccessTokenClaims): RevocationRef[] {
  const refs: RevocationRef[] = [
    { kind: 'jti', id: claims.jti },
    { kind: 'agent', id: claims.client_id },
    { kind: 'agent', id: claims.sub },
    ...actSubjects(claims.act).map((id) => ({ kind: 'agent' as const, id })),
  ];
  if (claims.cid) refs.push({ kind: 'credential', id: claims.cid });
  if (claims.fam) refs.push({ kind: 'family', id: claims.fam });
  if (claims.delegation_id) refs.push({ kind: 'delegation', id: claims.delegation_id });
  if (claims.resource_server_id) refs.push({ kind: 'resource_server', id: claims.resource_server_id });
  for (const ref of claims.subject_refs ?? []) refs.push(parseRef(ref));
  const seen = new Set<string>();
  return refs.filter((ref) => {
    const key = formatRef(ref);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The management API's view of a token (CONTRACT §4 "authority of a token"). */
export function principalOf(claims: AccessTokenClaims): Principal {
  return {
    actorAgentId: claims.client_id,
    subjectAgentId: claims.sub,
    rootAgentId: claims.agent.root_agent_id,
    scopes: parseScopeParam(claims.scope),
    ...(claims.act ? { act: claims.act } : {}),
    ...(claims.delegation_id ? { delegationId: claims.delegation_id } : {}),
    tokenId: claims.jti,
    ...(claims.cid ? { credentialId: claims.cid } : {}),
  };
}
