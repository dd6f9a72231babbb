import * as fs from 'node:fs';
import * as path from 'node:path';
import { freePort, startEmbeddedApi, tempDir, type EmbeddedApi } from '../../support/api-process';

/**
 * The zero-dependency dev mode end to end: the COMPILED API started with DATABASE_URL and REDIS_URL unset
 * (PGlite in the process, in-process Redis and jobs), a full flow over HTTP, then a restart on the same data
 * directory that shows the data persisted.
 */
const API = '/api/v1';

interface Json {
  status: number;
  body: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

async function call(
  api: EmbeddedApi,
  method: string,
  route: string,
  options: { auth?: string; json?: unknown; form?: Record<string, string> } = {},
): Promise<Json> {
  const headers: Record<string, string> = {};
  if (options.auth) headers.Authorization = options.auth;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  }
  const url = route.startsWith('http') ? route : `${api.baseUrl}${route}`;
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function expectStatus(res: Json, status: number, what: string): void {
  if (res.status !== status)
    throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
}

async function clientCredentials(api: EmbeddedApi, clientId: string, apiKey: string): Promise<Json> {
  return call(api, 'POST', `${API}/auth/token`, {
    auth: basic(clientId, apiKey),
    form: { grant_type: 'client_credentials' },
  });
}

/** `Authorization` for the management API (CONTRACT §5: a Bearer access token from client_credentials). */
async function managementAuth(api: EmbeddedApi, clientId: string, apiKey: string): Promise<string> {
  const res = await clientCredentials(api, clientId, apiKey);
  expectStatus(res, 200, 'client_credentials');
  return `Bearer ${res.body.access_token as string}`;
}

describe('embedded mode (DATABASE_URL and REDIS_URL unset): the compiled API', () => {
  jest.setTimeout(240_000);
  const workDir = tempDir('embedded-flow');
  const dataDir = path.join(workDir, 'data');
  let port: number;
  let api: EmbeddedApi | undefined;
  const state: {
    root?: { id: string; apiKey: string };
    child?: { id: string; apiKey: string };
    revokedToken?: string;
    delegationId?: string;
  } = {};

  beforeAll(async () => {
    port = await freePort();
    api = await startEmbeddedApi({ cwd: workDir, dataDir, port });
  });

  afterAll(async () => {
    await api?.process.kill();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('says once, at start-up, that it runs embedded, where the data lives and where the API is', () => {
    const lines = api!.process.lines.filter((l) => String(l.msg).startsWith('AgentAuth running in'));
    expect(lines).toHaveLength(1);
    expect(lines[0].msg).toBe(
      // the data directory is shown relative to the working directory when it is inside it
      `AgentAuth running in embedded mode: PostgreSQL (PGlite) at ./data, in-process Redis and jobs; ` +
        `API http://127.0.0.1:${port}/api/v1, docs http://127.0.0.1:${port}/docs`,
    );
    expect(fs.existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
    expect(api!.process.nonJson).toEqual([]);
    expect(api!.process.stderr).toEqual([]);
  });

  it('runs the management flow: bootstrap, register a child, issue it a key, delegate to it', async () => {
    const a = api!;
    const boot = await call(a, 'POST', `${API}/agents/bootstrap`, { json: { name: 'dev-root' } });
    expectStatus(boot, 201, 'bootstrap');
    state.root = { id: boot.body.agent.id, apiKey: boot.body.credential.api_key };
    const rootAuth = await managementAuth(a, state.root.id, state.root.apiKey);

    const child = await call(a, 'POST', `${API}/agents`, {
      auth: rootAuth,
      json: { name: 'dev-child', allowed_scopes: ['agents:read', 'tokens:introspect'] },
    });
    expectStatus(child, 201, 'register child');
    expect(child.body).toMatchObject({ parent_agent_id: state.root.id, trust_level: 'delegated' });

    const key = await call(a, 'POST', `${API}/credentials`, {
      auth: rootAuth,
      json: { agent_id: child.body.id },
    });
    expectStatus(key, 201, 'issue key');
    state.child = { id: child.body.id, apiKey: key.body.api_key };

    const delegation = await call(a, 'POST', `${API}/delegations`, {
      auth: rootAuth,
      json: {
        delegate_agent_id: state.child.id,
        scopes: ['agents:read'],
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
      },
    });
    expectStatus(delegation, 201, 'create delegation');
    expect(delegation.body.delegation_token).toEqual(expect.any(String));
    state.delegationId = delegation.body.id;

    const listed = await call(a, 'GET', `${API}/agents/${state.child.id}`, { auth: rootAuth });
    expectStatus(listed, 200, 'read child');
  });

  it('issues, introspects and revokes tokens (client_credentials, RFC 7662, RFC 7009, agent_delegation)', async () => {
    const a = api!;
    const { root, child } = state;
    expect(root && child).toBeTruthy();
    const discovery = await call(a, 'GET', '/.well-known/oauth-authorization-server');
    expectStatus(discovery, 200, 'discovery');
    const introspectUrl = discovery.body.introspection_endpoint as string;
    const revokeUrl = discovery.body.revocation_endpoint as string;
    const rootBasic = basic(root!.id, root!.apiKey);

    const token = await clientCredentials(a, child!.id, child!.apiKey);
    expectStatus(token, 200, 'client_credentials');
    expect(token.body).toMatchObject({
      token_type: expect.stringMatching(/^bearer$/i),
      access_token: expect.any(String),
    });
    const accessToken = token.body.access_token as string;

    const active = await call(a, 'POST', introspectUrl, { auth: rootBasic, form: { token: accessToken } });
    expectStatus(active, 200, 'introspect');
    expect(active.body).toMatchObject({ active: true, sub: child!.id, client_id: child!.id });

    const revoked = await call(a, 'POST', revokeUrl, { auth: rootBasic, form: { token: accessToken } });
    expectStatus(revoked, 200, 'revoke');
    const inactive = await call(a, 'POST', introspectUrl, { auth: rootBasic, form: { token: accessToken } });
    expect(inactive).toEqual({ status: 200, body: { active: false } });
    state.revokedToken = accessToken;

    // The delegation grant: the child (delegate) exchanges the root's delegation token for an access token.
    const rootAuth = await managementAuth(a, root!.id, root!.apiKey);
    const delegation = await call(a, 'POST', `${API}/delegations`, {
      auth: rootAuth,
      json: {
        delegate_agent_id: child!.id,
        scopes: ['agents:read'],
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
      },
    });
    expectStatus(delegation, 201, 'create delegation');
    const delegated = await call(a, 'POST', `${API}/auth/token`, {
      auth: basic(child!.id, child!.apiKey),
      form: {
        grant_type: 'urn:agentauth:grant-type:agent_delegation',
        delegation_token: delegation.body.delegation_token as string,
      },
    });
    expectStatus(delegated, 200, 'agent_delegation grant');
    const claims = JSON.parse(
      Buffer.from((delegated.body.access_token as string).split('.')[1], 'base64url').toString('utf8'),
    ) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: root!.id, client_id: child!.id, delegation_id: delegation.body.id });
  });

  it('keeps everything across a restart on the same data directory', async () => {
    // SIGTERM: Nest runs the shutdown hooks (PGlite closed cleanly) and re-raises the signal.
    const exit = await api!.process.stop();
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    expect(api!.process.stderr).toEqual([]);
    api = await startEmbeddedApi({ cwd: workDir, dataDir, port });
    const a = api;
    // Nothing to migrate the second time: the same database, already at the latest migration.
    expect(a.process.lines.find((l) => l.msg === 'embedded PostgreSQL ready')).toMatchObject({
      migrations_applied: 0,
    });
    const { root, child } = state;
    const rootAuth = await managementAuth(a, root!.id, root!.apiKey);
    const agent = await call(a, 'GET', `${API}/agents/${child!.id}`, { auth: rootAuth });
    expectStatus(agent, 200, 'child after restart');
    expect(agent.body).toMatchObject({ id: child!.id, name: 'dev-child', status: 'active' });
    const delegations = await call(a, 'GET', `${API}/delegations`, { auth: rootAuth });
    expectStatus(delegations, 200, 'delegations after restart');
    expect((delegations.body.items as { id: string }[]).map((d) => d.id)).toContain(state.delegationId);
    // The child's key still authenticates (its hash was persisted).
    await managementAuth(a, child!.id, child!.apiKey);
    // The in-process Redis started empty: the revocation state was rebuilt from PGlite before /ready.
    expect(state.revokedToken).toBeDefined();
    const discovery = await call(a, 'GET', '/.well-known/oauth-authorization-server');
    const again = await call(a, 'POST', discovery.body.introspection_endpoint as string, {
      auth: basic(root!.id, root!.apiKey),
      form: { token: state.revokedToken! },
    });
    expect(again).toEqual({ status: 200, body: { active: false } });
  });
});
