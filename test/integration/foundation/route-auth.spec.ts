import { createTestApp, type TestApp } from '../../support/app';
import { listRoutes } from '../../support/routes';

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

  it('only opens health, readiness, discovery, JWKS, metrics and the OAuth endpoints publicly', () => {
    const allowedPublic = [
      /^health$/,
      /^ready$/,
      /^metrics$/,
      /^\.well-known\//,
      /^auth\/jwks$/,
      /^auth\/token(\/introspect|\/revoke)?$/,
      /^agents\/bootstrap$/,
    ];
    const unexpected = listRoutes(t.app).filter(
      (r) => r.auth === 'public' && !allowedPublic.some((re) => re.test(r.path)),
    );
    expect(unexpected.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });
});
