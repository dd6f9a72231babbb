import * as fs from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { FRAMEWORK_NARRATION_CONTEXTS, OAUTH_API_TAG, OPENAPI_TAGS } from '@agentauth/core';
import { aTree, API } from '../../factories/agents';
import { createTestApp, type TestApp } from '../../support/app';
import { logCapture } from '../../support/log-capture';

/**
 * What a newcomer meets in the first hour (issue #24), in process: the index at / and at the API prefix, the
 * hint for an API key sent as a Bearer token, the OpenAPI document's order, version and getting-started text,
 * and a start without framework warnings. (The compiled server, `make run` and the README walkthrough:
 * test/integration/devmode/first-run.spec.ts.)
 */
const PACKAGE = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as {
  version: string;
};
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('the first hour', () => {
  let t: TestApp;
  let startLines: Record<string, unknown>[];

  beforeAll(async () => {
    const before = logCapture.lines.length;
    t = await createTestApp();
    startLines = logCapture.lines.slice(before);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('GET / and GET /api/v1: an index instead of a 404', () => {
    it.each(['/', API, `${API}/`])(
      '%s answers JSON by default: name, version and absolute links',
      async (path) => {
        const res = await request(t.http)
          .get(path)
          .expect(200)
          .expect('Content-Type', /application\/json/);
        const base = t.config.publicBaseUrl;
        expect(res.body).toEqual({
          name: 'AgentAuth',
          version: PACKAGE.version,
          description: expect.any(String),
          links: {
            docs: `${base}/docs`,
            openapi: `${base}/docs-json`,
            api: `${base}${API}`,
            discovery: `${base}/.well-known/oauth-authorization-server`,
            agent_configuration: `${base}/.well-known/agent-configuration`,
            jwks: `${base}${API}/auth/jwks`,
            token: `${base}${API}/auth/token`,
            health: `${base}/health`,
            ready: `${base}/ready`,
          },
        });
      },
    );

    it.each(['/', API])('%s answers an HTML page with the same links to a browser', async (path) => {
      const res = await request(t.http)
        .get(path)
        .set('Accept', BROWSER_ACCEPT)
        .expect(200)
        .expect('Content-Type', /text\/html/);
      expect(res.text).toContain(`<a href="${t.config.publicBaseUrl}/docs">`);
      expect(res.text).toContain(
        `<a href="${t.config.publicBaseUrl}/.well-known/oauth-authorization-server">`,
      );
      expect(res.text).toContain(`<a href="${t.config.publicBaseUrl}/health">`);
      expect(res.text).toContain(PACKAGE.version);
    });

    it('keeps unknown paths a problem+json 404', async () => {
      const res = await request(t.http).get('/nothing-here').expect(404);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    });
  });

  it('answers an API key sent as a Bearer token with what to do instead (401, nothing about the key)', async () => {
    const root = await aTree(t);
    const res = await request(t.http)
      .get(`${API}/agents`)
      .set('Authorization', `Bearer ${root.apiKey}`)
      .expect(401);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    expect(res.body.detail).toBe(
      'This is an API key, not an access token: exchange it at POST /api/v1/auth/token ' +
        '(grant_type=client_credentials, HTTP Basic with the agent id as user name and the API key as password) ' +
        'and send the access_token it returns as the Bearer token',
    );
    expect(JSON.stringify(res.body)).not.toContain(root.apiKey);
    // A random JWT-shaped token still gets the ordinary answer.
    const other = await request(t.http)
      .get(`${API}/agents`)
      .set('Authorization', 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln')
      .expect(401);
    expect(other.body.detail).toBe('The token is invalid or expired');
    // The access token the hint describes works.
    await request(t.http).get(`${API}/agents`).set(root.auth).expect(200);
  });

  it('answers an unknown property that is close to a real one with the real one (scopes → allowed_scopes)', async () => {
    const root = await aTree(t);
    const res = await request(t.http)
      .post(`${API}/agents`)
      .set(root.auth)
      .send({ name: 'worker', scopes: ['agents:read'], nmae: 'typo', colour: 'blue' })
      .expect(400);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { field: 'scopes', message: 'property scopes should not exist (did you mean allowed_scopes?)' },
        { field: 'nmae', message: 'property nmae should not exist (did you mean name?)' },
        { field: 'colour', message: 'property colour should not exist' },
      ]),
    );
    expect(JSON.stringify(res.body)).not.toContain('blue');
  });

  describe('the OpenAPI document', () => {
    let doc: {
      info: { version: string; description: string };
      tags: { name: string }[];
      paths: Record<string, Record<string, { tags?: string[] }>>;
    };
    beforeAll(async () => {
      doc = (await request(t.http).get('/docs-json').expect(200)).body;
    });

    it('lists "OAuth 2.0" first, then the management tags, and every tag used is listed', () => {
      expect(doc.tags.map((tag) => tag.name)).toEqual(OPENAPI_TAGS.map((tag) => tag.name));
      expect(doc.tags[0].name).toBe('OAuth 2.0');
      const used = new Set(
        Object.values(doc.paths).flatMap((ops) => Object.values(ops).flatMap((op) => op.tags ?? [])),
      );
      expect([...used].filter((tag) => !doc.tags.some((listed) => listed.name === tag))).toEqual([]);
    });

    it('puts the token, introspection, revocation, JWKS and discovery endpoints under "OAuth 2.0" only', () => {
      const oauthPaths = Object.entries(doc.paths)
        .filter(([, ops]) => Object.values(ops).some((op) => op.tags?.includes(OAUTH_API_TAG)))
        .map(([p]) => p)
        .sort();
      expect(oauthPaths).toEqual(
        expect.arrayContaining([
          `${API}/auth/token`,
          `${API}/auth/token/introspect`,
          `${API}/auth/token/revoke`,
          `${API}/auth/jwks`,
          '/.well-known/oauth-authorization-server',
          '/.well-known/agent-configuration',
        ]),
      );
      for (const p of oauthPaths) {
        for (const op of Object.values(doc.paths[p]))
          expect({ p, tags: op.tags }).toEqual({ p, tags: [OAUTH_API_TAG] });
      }
    });

    it('carries the version of package.json and a getting-started description', () => {
      expect(doc.info.version).toBe(PACKAGE.version);
      expect(doc.info.description).toContain('Getting started');
      expect(doc.info.description).toContain(`POST ${API}/agents/bootstrap`);
      expect(doc.info.description).toContain(`POST ${API}/auth/token`);
      expect(doc.info.description).toContain('client_credentials');
    });
  });

  it('starts without warnings: no legacy route pattern, Nest narration at debug level only', () => {
    expect(startLines.length).toBeGreaterThan(0);
    expect(startLines.filter((l) => l.context === 'LegacyRouteConverter')).toEqual([]);
    expect(startLines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    const narration = startLines.filter((l) => FRAMEWORK_NARRATION_CONTEXTS.has(String(l.context)));
    expect(narration.some((l) => String(l.msg).startsWith('Mapped {/api/v1/agents, POST}'))).toBe(true);
    expect(narration.filter((l) => l.level !== 'debug')).toEqual([]);
  });
});
