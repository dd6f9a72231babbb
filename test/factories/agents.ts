import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { TestApp } from '../support/app';

/** An agent as the API returns it. */
export interface AgentJson {
  id: string;
  name: string;
  parent_agent_id: string | null;
  root_agent_id: string;
  trust_level: 'root' | 'delegated' | 'ephemeral';
  status: 'active' | 'suspended' | 'deactivated';
  allowed_scopes: string[];
  expires_at: string | null;
  depth: number;
  [field: string]: unknown;
}

/** Someone who can call the API: an agent and one of its raw keys. */
export interface Caller {
  agent: AgentJson;
  apiKey: string;
  credentialId: string;
  /** `Authorization: Bearer <key>` */
  auth: { Authorization: string };
}

export const API = '/api/v1';

export function bearer(apiKey: string): { Authorization: string } {
  return { Authorization: `Bearer ${apiKey}` };
}

function expectStatus(res: request.Response, status: number, what: string): void {
  if (res.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/** A new root agent (all built-in scopes unless `body.allowed_scopes`) and its bootstrap key. */
export async function aTree(t: TestApp, body: Record<string, unknown> = {}): Promise<Caller> {
  const res = await request(t.http)
    .post(`${API}/agents/bootstrap`)
    .send({ name: `root-${randomUUID().slice(0, 8)}`, ...body });
  expectStatus(res, 201, 'bootstrap');
  const apiKey = res.body.credential.api_key as string;
  return { agent: res.body.agent, apiKey, credentialId: res.body.credential.id, auth: bearer(apiKey) };
}

/** A child agent created by `caller` (under `caller` unless `body.parent_agent_id`). */
export async function anAgent(
  t: TestApp,
  caller: Caller,
  body: Record<string, unknown> = {},
): Promise<AgentJson> {
  const res = await request(t.http)
    .post(`${API}/agents`)
    .set(caller.auth)
    .send({ name: `agent-${randomUUID().slice(0, 8)}`, ...body });
  expectStatus(res, 201, 'create agent');
  return res.body as AgentJson;
}

/** A key for `agent`, issued by `caller` (default: every scope of the agent the caller holds). */
export async function aKey(
  t: TestApp,
  caller: Caller,
  agent: AgentJson,
  body: Record<string, unknown> = {},
): Promise<Caller> {
  const res = await request(t.http)
    .post(`${API}/credentials`)
    .set(caller.auth)
    .send({ agent_id: agent.id, ...body });
  expectStatus(res, 201, 'create credential');
  const apiKey = res.body.api_key as string;
  return { agent, apiKey, credentialId: res.body.id, auth: bearer(apiKey) };
}

/** An agent under `caller` plus a key for it: a caller one level down. */
export async function aChildCaller(
  t: TestApp,
  caller: Caller,
  body: Record<string, unknown> = {},
): Promise<Caller> {
  const agent = await anAgent(t, caller, body);
  return aKey(t, caller, agent);
}

/** Status of `GET /agents` (the cheapest authenticated call) with this key: 200 works, 401 does not. */
export async function authStatus(t: TestApp, apiKey: string): Promise<number> {
  const res = await request(t.http).get(`${API}/agents`).query({ limit: 1 }).set(bearer(apiKey));
  return res.status;
}
