import request from 'supertest';
import type { TestApp } from '../../support/app';
import { API, basicAuth, type KeyHolder } from '../../factories/agents';
import { withDb } from '../../factories/db';

export const AGENT_DELEGATION_URN = 'urn:agentauth:grant-type:agent_delegation';

/** POST /auth/token with the agent_delegation grant, `holder` authenticated by Basic. */
export function delegationGrant(
  t: TestApp,
  holder: KeyHolder,
  delegationToken: string,
  params: Record<string, string> = {},
): request.Test {
  return request(t.http)
    .post(`${API}/auth/token`)
    .set(basicAuth(holder.agent.id, holder.apiKey))
    .type('form')
    .send({ grant_type: AGENT_DELEGATION_URN, delegation_token: delegationToken, ...params });
}

export interface DelegatedTokens {
  accessToken: string;
  refreshToken: string;
  scope: string;
  expiresIn: number;
}

/** A token from the grant; throws unless 200. */
export async function aDelegatedToken(
  t: TestApp,
  holder: KeyHolder,
  delegationToken: string,
  params: Record<string, string> = {},
): Promise<DelegatedTokens> {
  const res = await delegationGrant(t, holder, delegationToken, params);
  if (res.status !== 200) {
    throw new Error(`agent_delegation: expected 200, got ${res.status} ${JSON.stringify(res.body)}`);
  }
  return {
    accessToken: res.body.access_token,
    refreshToken: res.body.refresh_token,
    scope: res.body.scope,
    expiresIn: res.body.expires_in,
  };
}

/** POST /auth/token with refresh_token, `holder` authenticated by Basic. */
export function refreshGrant(t: TestApp, holder: KeyHolder, refreshToken: string): request.Test {
  return request(t.http)
    .post(`${API}/auth/token`)
    .set(basicAuth(holder.agent.id, holder.apiKey))
    .type('form')
    .send({ grant_type: 'refresh_token', refresh_token: refreshToken });
}

/** The stored state of the refresh families minted from some delegations. */
export async function familiesOf(
  delegationIds: string[],
): Promise<{ delegation_id: string; status: string; revoked_reason: string | null }[]> {
  return withDb(async (db) => {
    const { rows } = await db.query(
      `SELECT delegation_id, status, revoked_reason FROM refresh_families
        WHERE delegation_id = ANY($1::uuid[]) ORDER BY created_at`,
      [delegationIds],
    );
    return rows;
  });
}
