import request from 'supertest';
import type { TestApp } from '../support/app';
import { anAgent, API, aTree, type AgentJson, type Caller } from './agents';
import { aScope } from './scopes';

/** A policy as the API returns it. */
export interface PolicyJson {
  id: string;
  root_agent_id: string;
  owner_agent_id: string;
  name: string;
  description: string | null;
  effect: 'allow' | 'deny';
  subjects: string[];
  actions: string[];
  resources: string[];
  conditions: Record<string, unknown>;
  priority: number;
  enabled: boolean;
  version: number;
  created_at: string;
  updated_at: string;
}

/** Creates a policy as `caller` (201 expected). Defaults: a deny on `*` for `*`. */
export async function aPolicy(
  t: TestApp,
  caller: Caller,
  body: Record<string, unknown> = {},
): Promise<PolicyJson> {
  const res = await request(t.http)
    .post(`${API}/policies`)
    .set(caller.auth)
    .send({ name: 'policy', effect: 'deny', subjects: ['*'], actions: ['*'], ...body });
  if (res.status !== 201) throw new Error(`create policy: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as PolicyJson;
}

export interface EvaluationJson {
  decision: 'allow' | 'deny';
  reason: string;
  matched_policies: { id: string; name: string; effect: string }[];
  agent_id: string;
  action: string;
  resource: string;
}

/** `POST /policies/evaluate` as `caller` (200 expected). */
export async function evaluate(
  t: TestApp,
  caller: Caller,
  body: { agent_id: string; action: string; resource?: string; context?: Record<string, unknown> },
): Promise<EvaluationJson> {
  const res = await request(t.http).post(`${API}/policies/evaluate`).set(caller.auth).send(body);
  if (res.status !== 200) throw new Error(`evaluate: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as EvaluationJson;
}

/** A fresh tree with `files:read` registered and a worker allowed it (the decision-cache suites). */
export async function aFilesReader(t: TestApp): Promise<{ root: Caller; worker: AgentJson }> {
  const root = await aTree(t);
  await aScope(t, root, 'files:read');
  const worker = await anAgent(t, root, { allowed_scopes: ['files:read'] });
  return { root, worker };
}

/** The decision's reason for `worker` doing `files:read`, asked through `t`. */
export async function filesReadReason(t: TestApp, root: Caller, worker: AgentJson): Promise<string> {
  return (await evaluate(t, root, { agent_id: worker.id, action: 'files:read' })).reason;
}

/** Polls `probe` until it returns true or `ms` pass; the elapsed time, or null on timeout. */
export async function within(ms: number, probe: () => Promise<boolean>): Promise<number | null> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await probe()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  return null;
}
