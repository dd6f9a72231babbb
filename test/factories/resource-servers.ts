import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { API, type Caller, type HttpTarget } from './agents';

/** A resource server as the API returns it. */
export interface ResourceServerJson {
  id: string;
  identifier: string;
  name: string;
  description: string | null;
  scopes: string[];
  agent_id: string | null;
  access_token_ttl_seconds: number | null;
  dpop_required: boolean;
  root_agent_id: string;
  owner_agent_id: string;
  created_at: string;
  updated_at: string;
}

/** A fresh, unique https identifier (every identifier is unique across the whole server). */
export function anIdentifier(label = 'api'): string {
  return `https://${label}-${randomUUID().slice(0, 8)}.example.com/mcp`;
}

/** Registers a resource server as `caller` (201 expected); `scopes` must be registered in the tree. */
export async function aResourceServer(
  t: HttpTarget,
  caller: Caller,
  body: Record<string, unknown> & { scopes: string[] },
): Promise<ResourceServerJson> {
  const res = await request(t.http)
    .post(`${API}/resource-servers`)
    .set(caller.auth)
    .send({ identifier: anIdentifier(), name: 'a resource server', ...body });
  if (res.status !== 201) {
    throw new Error(`create resource server: expected 201, got ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body as ResourceServerJson;
}
