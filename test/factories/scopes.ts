import request from 'supertest';
import type { TestApp } from '../support/app';
import { API, type Caller, withFreshToken } from './agents';

/** A scope as the API returns it. */
export interface ScopeJson {
  id: string;
  name: string;
  description: string | null;
  built_in: boolean;
  root_agent_id: string | null;
  created_by: string | null;
  created_at: string;
}

/**
 * Registers a custom scope in `caller`'s tree (201 expected). Access tokens are snapshots: the caller (a
 * root, whose full keys gain the scope) gets a fresh token so its next calls carry the new scope.
 */
export async function aScope(
  t: TestApp,
  caller: Caller,
  name: string,
  description?: string,
): Promise<ScopeJson> {
  const res = await request(t.http)
    .post(`${API}/scopes`)
    .set(caller.auth)
    .send({ name, ...(description !== undefined ? { description } : {}) });
  if (res.status !== 201)
    throw new Error(`register scope ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  Object.assign(caller, await withFreshToken(t, caller));
  return res.body as ScopeJson;
}

/** Every scope `caller` can list (all pages). */
export async function allScopes(t: TestApp, caller: Caller, limit = 200): Promise<ScopeJson[]> {
  const items: ScopeJson[] = [];
  let cursor: string | null = null;
  do {
    const res: request.Response = await request(t.http)
      .get(`${API}/scopes`)
      .query({ limit, ...(cursor ? { cursor } : {}) })
      .set(caller.auth);
    if (res.status !== 200) throw new Error(`list scopes: ${res.status} ${JSON.stringify(res.body)}`);
    items.push(...(res.body.items as ScopeJson[]));
    cursor = res.body.next_cursor as string | null;
  } while (cursor);
  return items;
}
