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

/** Someone who can call the API: an agent, one of its raw keys, and an access token minted with it. */
export interface Caller {
  agent: AgentJson;
  apiKey: string;
  credentialId: string;
  /** An access token (client_credentials with the key, all of the key's scopes). */
  accessToken: string;
  /** `Authorization: Bearer <access token>` */
  auth: { Authorization: string };
}

/** An agent and one of its keys (what client authentication needs). */
export interface KeyHolder {
  agent: { id: string };
  apiKey: string;
}

export const API = '/api/v1';

/** What the factories call: an in-process test app, or the base URL of a spawned API (`{ http: baseUrl }`). */
export type HttpTarget = Pick<TestApp, 'http'>;

export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}

/** `Authorization: Basic` for a client, with id and secret form-urlencoded first (RFC 6749 §2.3.1). */
export function basicAuth(clientId: string, secret: string): { Authorization: string } {
  const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
  return {
    Authorization: `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`,
  };
}

function expectStatus(res: request.Response, status: number, what: string): void {
  if (res.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  }
}

/** POST /auth/token with client_credentials (Basic); the raw response. */
export function requestToken(
  t: HttpTarget,
  holder: KeyHolder,
  params: Record<string, string> = {},
): request.Test {
  return request(t.http)
    .post(`${API}/auth/token`)
    .set(basicAuth(holder.agent.id, holder.apiKey))
    .type('form')
    .send({ grant_type: 'client_credentials', ...params });
}

/** An access token for the key's agent (default: every scope of the key). */
export async function aToken(
  t: HttpTarget,
  holder: KeyHolder,
  params: Record<string, string> = {},
): Promise<string> {
  const res = await requestToken(t, holder, params);
  expectStatus(res, 200, 'client_credentials');
  return res.body.access_token as string;
}

/** The (unverified) payload of a JWT, for assertions on claims. */
export function claimsOf(jwt: string): Record<string, unknown> & { exp: number; iat: number; jti: string } {
  const [, payload] = jwt.split('.');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

/** The same caller with a freshly minted access token (after a suspension, a clock jump…). */
export async function withFreshToken<T extends KeyHolder>(
  t: HttpTarget,
  holder: T,
): Promise<T & { accessToken: string; auth: { Authorization: string } }> {
  const accessToken = await aToken(t, holder);
  return { ...holder, accessToken, auth: bearer(accessToken) };
}

/** A new root agent (all built-in scopes unless `body.allowed_scopes`) and its bootstrap key. */
export async function aTree(t: HttpTarget, body: Record<string, unknown> = {}): Promise<Caller> {
  const res = await request(t.http)
    .post(`${API}/agents/bootstrap`)
    .send({ name: `root-${randomUUID().slice(0, 8)}`, ...body });
  expectStatus(res, 201, 'bootstrap');
  const apiKey = res.body.credential.api_key as string;
  return withFreshToken(t, {
    agent: res.body.agent as AgentJson,
    apiKey,
    credentialId: res.body.credential.id,
  });
}

/** A child agent created by `caller` (under `caller` unless `body.parent_agent_id`). */
export async function anAgent(
  t: HttpTarget,
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
  t: HttpTarget,
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
  return withFreshToken(t, { agent, apiKey, credentialId: res.body.id as string });
}

/** An agent under `caller` plus a key for it: a caller one level down. */
export async function aChildCaller(
  t: HttpTarget,
  caller: Caller,
  body: Record<string, unknown> = {},
): Promise<Caller> {
  const agent = await anAgent(t, caller, body);
  return aKey(t, caller, agent);
}

/**
 * Does this key still authenticate? Mints a token with it (client_credentials) and calls `GET /agents` (the
 * cheapest authenticated call) with the token: 200 works; 401 from either step does not.
 */
export async function authStatus(t: HttpTarget, holder: KeyHolder): Promise<number> {
  const token = await requestToken(t, holder);
  if (token.status !== 200) return token.status;
  const res = await request(t.http)
    .get(`${API}/agents`)
    .query({ limit: 1 })
    .set(bearer(token.body.access_token as string));
  return res.status;
}
