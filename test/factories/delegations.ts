import request from 'supertest';
import { Clock, type Principal } from '@agentauth/core';
import type { TestApp } from '../support/app';
import { API, type Caller } from './agents';
import { withDb } from './db';

/** A delegation as the API returns it. */
export interface DelegationJson {
  id: string;
  root_agent_id: string;
  original_delegator_id: string;
  delegator_agent_id: string;
  delegate_agent_id: string;
  parent_delegation_id: string | null;
  scopes: string[];
  depth: number;
  max_depth: number | null;
  status: 'active' | 'revoked';
  expires_at: string;
  created_at: string;
  revoked_at: string | null;
  revocation_reason: string | null;
  /** Only in the create response. */
  delegation_token?: string;
}

/** An ISO timestamp `ms` after the app's Clock (which tests may have moved). */
export function fromNow(t: TestApp, ms: number): string {
  return new Date(t.app.get(Clock).nowMs() + ms).toISOString();
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** `POST /delegations` as `caller`; throws unless 201. */
export async function aDelegation(
  t: TestApp,
  caller: Caller,
  body: { delegate_agent_id: string; scopes: string[]; expires_at?: string; [field: string]: unknown },
): Promise<DelegationJson> {
  const res = await request(t.http)
    .post(`${API}/delegations`)
    .set(caller.auth)
    .send({ expires_at: fromNow(t, HOUR), ...body });
  if (res.status !== 201) {
    throw new Error(`create delegation: expected 201, got ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body as DelegationJson;
}

/** Every delegation row of a tree, for "nothing was written" comparisons. */
export async function delegationRows(rootAgentId: string): Promise<Record<string, unknown>[]> {
  return withDb(async (db) => {
    const { rows } = await db.query(`SELECT * FROM delegations WHERE root_agent_id = $1 ORDER BY id`, [
      rootAgentId,
    ]);
    return rows;
  });
}

/** Stored status and revocation reason of some delegations, by id. */
export async function delegationStatuses(
  ids: string[],
): Promise<Record<string, { status: string; reason: string | null }>> {
  return withDb(async (db) => {
    const { rows } = await db.query<{ id: string; status: string; revocation_reason: string | null }>(
      `SELECT id, status, revocation_reason FROM delegations WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return Object.fromEntries(rows.map((r) => [r.id, { status: r.status, reason: r.revocation_reason }]));
  });
}

/**
 * The principal an access token minted by the `agent_delegation` grant will carry (CONTRACT §4): `sub` = the
 * chain's original delegator, `client_id` = the delegate, `act`, `delegation_id`. Service-level tests use this
 * to exercise the §5 rules for tokens carrying `act`; `test/integration/delegations/agent-delegation-grant.spec.ts`
 * proves the same rules with real grant tokens.
 */
export function delegatedPrincipal(
  delegation: DelegationJson,
  rootAgentId: string,
  scopes: string[],
): Principal {
  return {
    actorAgentId: delegation.delegate_agent_id,
    subjectAgentId: delegation.original_delegator_id,
    rootAgentId,
    scopes,
    act: { sub: delegation.delegate_agent_id },
    delegationId: delegation.id,
  };
}

/** The decoded payload and header of a compact JWT (no verification: for assertions only). */
export function decodeJwt(jwt: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header, payload] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
  };
}
