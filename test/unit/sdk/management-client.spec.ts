import {
  AgentAuthClient,
  AgentAuthError,
  createManagementClient,
  managementClientFor,
  OAuthError,
  ProblemError,
  unwrap,
} from '@agentauth/sdk';
import { FakeClock, FakeServer, ISSUER, json, tokenResponse } from './fake-server';

describe('typed management client', () => {
  it('sends the admin key on admin routes and returns the typed data', async () => {
    const server = new FakeServer();
    server.on('GET /api/v1/stats', (req) =>
      json({
        seen_admin_key: req.headers.get('x-admin-key'),
        authorization: req.headers.get('authorization'),
      }),
    );
    const api = createManagementClient({ baseUrl: `${ISSUER}/`, adminKey: 'admin-key', fetch: server.fetch });
    expect(await unwrap(api.GET('/api/v1/stats'))).toEqual({
      seen_admin_key: 'admin-key',
      authorization: null,
    });
  });

  it("authenticates through the agent client: the agent's token, renewed once on invalid_token", async () => {
    const server = new FakeServer();
    let n = 0;
    server.on('POST /api/v1/auth/token', () => tokenResponse({}, n++));
    const seen: string[] = [];
    server.on('POST /api/v1/agents', (req) => {
      seen.push(`${req.headers.get('authorization')} ${req.body}`);
      return seen.length === 1
        ? new Response(null, { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } })
        : json({ id: 'a1', name: 'n' }, 201);
    });
    const agent = new AgentAuthClient({
      issuer: ISSUER,
      clientId: 'agent',
      clientSecret: 'key',
      fetch: server.fetch,
      clock: new FakeClock(),
    });
    const created = await unwrap(managementClientFor(agent).POST('/api/v1/agents', { body: { name: 'n' } }));
    expect(created).toMatchObject({ id: 'a1' });
    expect(seen).toEqual(['Bearer token-0 {"name":"n"}', 'Bearer token-1 {"name":"n"}']);
  });

  it('unwrap() throws ProblemError, OAuthError or AgentAuthError with the request id', async () => {
    const server = new FakeServer();
    server.on('GET /api/v1/scopes', () =>
      json(
        { type: 'urn:agentauth:problem:not_found', title: 'Not Found', status: 404, detail: 'gone' },
        404,
        {
          'X-Request-ID': 'rid-h',
        },
      ),
    );
    server.on('GET /api/v1/stats', () => json({ error: 'invalid_token', error_description: 'expired' }, 401));
    const api = createManagementClient({ baseUrl: ISSUER, fetch: server.fetch });

    const problem = await unwrap(api.GET('/api/v1/scopes')).catch((e: unknown) => e);
    expect(problem).toBeInstanceOf(ProblemError);
    expect(problem).toMatchObject({ status: 404, requestId: 'rid-h', message: 'gone' });

    const oauth = await unwrap(api.GET('/api/v1/stats')).catch((e: unknown) => e);
    expect(oauth).toBeInstanceOf(OAuthError);
    expect(oauth).toMatchObject({ error: 'invalid_token', status: 401, requestId: 'req-401' });

    server.on('GET /api/v1/webhooks', () => new Response('not json', { status: 502 }));
    const other = await unwrap(api.GET('/api/v1/webhooks', {})).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(AgentAuthError);
    expect(other).toMatchObject({ status: 502 });
  });
});
