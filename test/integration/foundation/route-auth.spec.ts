import { createTestApp, type TestApp } from '../../support/app';
import { listRoutes } from '../../support/routes';

/**
 * Every route and what it requires, written out by hand from CONTRACT §5 (the built-in scopes: a read needs
 * `<area>:read`, a write `<area>:write`; admin endpoints need `X-Admin-Key`) and SEED's endpoint list (plus
 * the routes CONTRACT adds: policy get/update/delete, delegation get, webhooks, RFC 8414 discovery, metrics).
 * `public` = no authentication by the guard (the OAuth endpoints authenticate their client themselves).
 * Dropping a scope from a route, or adding a route without adding it here, fails the test below.
 */
const EXPECTED_ROUTE_AUTH: Record<string, 'public' | 'admin' | string[]> = {
  'GET health': 'public',
  'GET ready': 'public',
  'GET metrics': 'public',
  'GET .well-known/oauth-authorization-server': 'public',
  'GET .well-known/agent-configuration': 'public',
  'GET .well-known/oauth-protected-resource': 'public',
  'GET .well-known/oauth-protected-resource/*path': 'public',
  // the index (GET /api/v1; GET / is the same handler outside Nest's router)
  'GET ': 'public',
  'GET auth/jwks': 'public',
  'POST auth/token': 'public',
  'POST auth/token/introspect': 'public',
  'POST auth/token/revoke': 'public',
  // CONTRACT §11: the authorization endpoint and its pages (the person signs in with an agent's API key)
  'GET auth/authorize': 'public',
  'POST auth/authorize/sign-in': 'public',
  'GET auth/authorize/consent': 'public',
  'POST auth/authorize/decision': 'public',
  'POST agents/bootstrap': 'public',
  'GET stats': 'admin',
  'GET audit/events': 'admin',
  'GET audit/verify': 'admin',
  'PUT agents/:id/rate-limit': 'admin',
  'POST agents': ['agents:write'],
  'GET agents': ['agents:read'],
  'GET agents/:id': ['agents:read'],
  'PATCH agents/:id': ['agents:write'],
  'DELETE agents/:id': ['agents:write'],
  'POST credentials': ['credentials:write'],
  'GET credentials': ['credentials:read'],
  'POST credentials/:id/rotate': ['credentials:write'],
  'DELETE credentials/:id': ['credentials:write'],
  'POST policies': ['policies:write'],
  'GET policies': ['policies:read'],
  'POST policies/evaluate': ['policies:read'], // a dry run: reads policies, writes nothing
  'GET policies/:id': ['policies:read'],
  'PATCH policies/:id': ['policies:write'],
  'DELETE policies/:id': ['policies:write'],
  'POST resource-servers': ['resource-servers:write'],
  'GET resource-servers': ['resource-servers:read'],
  'GET resource-servers/:id': ['resource-servers:read'],
  'PATCH resource-servers/:id': ['resource-servers:write'],
  'DELETE resource-servers/:id': ['resource-servers:write'],
  'POST scopes': ['scopes:write'],
  'GET scopes': ['scopes:read'],
  'POST delegations': ['delegations:write'],
  'GET delegations': ['delegations:read'],
  'GET delegations/:id': ['delegations:read'],
  'GET delegations/:id/chain': ['delegations:read'],
  'DELETE delegations/:id': ['delegations:write'],
  'POST webhooks': ['webhooks:write'],
  'GET webhooks': ['webhooks:read'],
  'GET webhooks/:id': ['webhooks:read'],
  'DELETE webhooks/:id': ['webhooks:write'],
  'GET webhooks/:id/deliveries': ['webhooks:read'],
};

/** Deny by default: every route states its authentication; a new route without it fails here. */
describe('route authentication metadata', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('finds the routes of the app', () => {
    const routes = listRoutes(t.app);
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(['GET health', 'GET ready']),
    );
  });

  it('has @Public, @AdminOnly or @Auth on every route', () => {
    const unprotected = listRoutes(t.app).filter((r) => r.auth === 'none');
    expect(unprotected.map((r) => `${r.method} ${r.path} (${r.controller}.${r.handler})`)).toEqual([]);
  });

  it('requires exactly the CONTRACT §5 scopes on every route (the table above, route by route)', () => {
    const actual = Object.fromEntries(
      listRoutes(t.app).map((r) => [
        `${r.method} ${r.path}`,
        r.auth === 'bearer' ? [...r.scopes].sort() : r.auth,
      ]),
    );
    expect(actual).toEqual(EXPECTED_ROUTE_AUTH);
  });

  it('only opens the index, health, readiness, discovery, JWKS, metrics and the OAuth endpoints publicly', () => {
    const allowedPublic = [
      /^$/,
      /^health$/,
      /^ready$/,
      /^metrics$/,
      /^\.well-known\//,
      /^auth\/jwks$/,
      /^auth\/token(\/introspect|\/revoke)?$/,
      /^auth\/authorize(\/sign-in|\/consent|\/decision)?$/,
      /^agents\/bootstrap$/,
    ];
    const unexpected = listRoutes(t.app).filter(
      (r) => r.auth === 'public' && !allowedPublic.some((re) => re.test(r.path)),
    );
    expect(unexpected.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });
});
