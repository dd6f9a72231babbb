import request from 'supertest';
import { Clock } from '@agentauth/core';
import { listeningApp, type TestApp } from '../../support/app';
import {
  type AgentJson,
  API,
  aKey,
  aTree,
  anAgent,
  basicAuth,
  bearer,
  type Caller,
} from '../../factories/agents';
import { auditEventsAbout, columnsContaining } from '../../factories/db';
import { decodeJwt } from '../../factories/delegations';
import {
  aKeyPair,
  aPublicKeyCredential,
  assertionParams,
  clientAssertion,
  dpopProof,
} from '../../factories/public-keys';
import { aResourceServer } from '../../factories/resource-servers';
import { aScope } from '../../factories/scopes';
import { introspect } from './auth-helpers';
import {
  authorizeUrl,
  Browser,
  csrfOf,
  formActionOf,
  pkce,
  redirectParams,
  scopeBoxesOf,
} from './authorize-helpers';

const CALLBACK = 'http://127.0.0.1/callback';

interface Flow {
  root: Caller;
  client: AgentJson;
  browser: Browser;
  verifier: string;
  challenge: string;
  state: string;
}

describe('authorization endpoint and authorization_code grant (CONTRACT §11)', () => {
  let t: TestApp & { base: string };
  beforeAll(async () => {
    t = await listeningApp();
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => {
    t.app.get(Clock).reset();
  });

  async function aFlow(clientBody: Record<string, unknown> = {}): Promise<Flow> {
    const root = await aTree(t);
    const client = await anAgent(t, root, {
      name: 'MCP client',
      client_type: 'public',
      redirect_uris: [CALLBACK],
      allowed_scopes: ['agents:read', 'delegations:read'],
      ...clientBody,
    });
    return { root, client, browser: new Browser(t.base), ...pkce(), state: 'st-123' };
  }

  function url(flow: Flow, extra: Record<string, string | undefined> = {}): string {
    return authorizeUrl(t.base, {
      response_type: 'code',
      client_id: flow.client.id,
      redirect_uri: 'http://127.0.0.1:53123/callback',
      code_challenge: flow.challenge,
      code_challenge_method: 'S256',
      state: flow.state,
      ...extra,
    });
  }

  /** Sign-in page → sign in as `who` → the consent page (its HTML). */
  async function consentFor(
    flow: Flow,
    who: Caller = flow.root,
    extra: Record<string, string> = {},
  ): Promise<string> {
    const signIn = await flow.browser.get(url(flow, extra));
    expect(signIn.status).toBe(200);
    const posted = await flow.browser.post(formActionOf(signIn.body), {
      csrf_token: csrfOf(signIn.body),
      agent_id: who.agent.id,
      api_key: who.apiKey,
    });
    expect(posted.status).toBe(303);
    const consent = await flow.browser.get(posted.location as string);
    expect(consent.status).toBe(200);
    return consent.body;
  }

  async function approve(flow: Flow, consent: string, scopes?: string[]): Promise<Record<string, string>> {
    const chosen =
      scopes ??
      scopeBoxesOf(consent)
        .filter((b) => b.checked)
        .map((b) => b.scope);
    const res = await flow.browser.post(formActionOf(consent), {
      csrf_token: csrfOf(consent),
      decision: 'approve',
      scope: chosen,
    });
    expect(res.status).toBe(303);
    return redirectParams(res.location);
  }

  function redeem(flow: Flow, code: string, extra: Record<string, string> = {}): request.Test {
    return request(t.http)
      .post(`${API}/auth/token`)
      .type('form')
      .send({
        grant_type: 'authorization_code',
        code,
        redirect_uri: 'http://127.0.0.1:53123/callback',
        code_verifier: flow.verifier,
        client_id: flow.client.id,
        ...extra,
      });
  }

  it('signs in, shows the consent page, approves, and the code buys a token acting for the approver', async () => {
    const flow = await aFlow();
    const consent = await consentFor(flow);
    expect(consent).toContain('<h1>Authorize MCP client</h1>');
    expect(scopeBoxesOf(consent)).toEqual([
      { scope: 'agents:read', checked: true, disabled: false },
      { scope: 'delegations:read', checked: true, disabled: false },
    ]);
    const params = await approve(flow, consent);
    expect(params).toMatchObject({ state: 'st-123', iss: t.config.publicBaseUrl });
    expect(params.code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const res = await redeem(flow, params.code).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'agents:read delegations:read' });
    expect(res.body.refresh_token).toMatch(/^aa_rt_/);
    const { payload } = decodeJwt(res.body.access_token);
    expect(payload).toMatchObject({
      sub: flow.root.agent.id,
      client_id: flow.client.id,
      act: { sub: flow.client.id },
    });
    expect(payload.delegation_id).toEqual(expect.any(String));
  });

  /** A full approval: the code and the token response for it. */
  async function approvedToken(flow: Flow): Promise<{ code: string; body: Record<string, string> }> {
    const params = await approve(flow, await consentFor(flow));
    const res = await redeem(flow, params.code).expect(200);
    return { code: params.code, body: res.body };
  }

  function expectErrorPage(
    res: { status: number; location: string | null; body: string },
    status = 400,
  ): void {
    expect(res.status).toBe(status);
    expect(res.location).toBeNull();
    expect(res.body).toContain('<h1>Authorization failed</h1>');
    expect(res.body).toMatch(/role="alert"/);
  }

  describe('the authorization request', () => {
    it('answers an unknown or inactive client and an unregistered redirect URI with an error page, never a redirect', async () => {
      const flow = await aFlow();
      const cases: Record<string, string | undefined>[] = [
        { client_id: '00000000-0000-4000-8000-000000000000' },
        { client_id: 'not-a-uuid' },
        { client_id: undefined },
        { redirect_uri: 'http://127.0.0.1:53123/other' },
        { redirect_uri: 'https://evil.example.com/callback' },
        { redirect_uri: 'http://127.0.0.1:53123/callback#frag' },
        { redirect_uri: undefined },
      ];
      for (const extra of cases) expectErrorPage(await flow.browser.get(url(flow, extra)));
      // a repeated client_id or redirect_uri is an error page too
      expectErrorPage(await flow.browser.get(`${url(flow)}&redirect_uri=${encodeURIComponent(CALLBACK)}`));

      await request(t.http)
        .patch(`${API}/agents/${flow.client.id}`)
        .set(flow.root.auth)
        .send({ status: 'suspended' })
        .expect(200);
      expectErrorPage(await flow.browser.get(url(flow)));
    });

    it('sends every other error back to the client with error, error_description, state and iss (RFC 9207)', async () => {
      const flow = await aFlow();
      const cases: [Record<string, string | undefined>, string][] = [
        [{ response_type: 'token' }, 'unsupported_response_type'],
        [{ response_type: undefined }, 'invalid_request'],
        [{ code_challenge: undefined }, 'invalid_request'],
        [{ code_challenge_method: 'plain' }, 'invalid_request'],
        [{ code_challenge_method: undefined }, 'invalid_request'],
        [{ code_challenge: 'short' }, 'invalid_request'],
        [{ scope: 'no-such:scope' }, 'invalid_scope'],
        [{ scope: 'NOT A SCOPE' }, 'invalid_scope'],
        [{ resource: 'https://unknown.example.com/mcp' }, 'invalid_target'],
      ];
      for (const [extra, error] of cases) {
        const res = await flow.browser.get(url(flow, extra));
        expect(res.status).toBe(303);
        const params = redirectParams(res.location);
        expect(res.location?.startsWith('http://127.0.0.1:53123/callback?')).toBe(true);
        expect(params).toMatchObject({ error, state: 'st-123', iss: t.config.publicBaseUrl });
        expect(params.error_description).toEqual(expect.any(String));
        expect(params.code).toBeUndefined();
      }
      // without state, none is echoed
      const res = await flow.browser.get(url(flow, { state: undefined, response_type: 'token' }));
      expect(redirectParams(res.location).state).toBeUndefined();
    });

    it('serves the pages no-store, unframeable, with a short HttpOnly SameSite=Lax session cookie', async () => {
      const flow = await aFlow();
      const res = await flow.browser.get(url(flow));
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      const cookie = res.headers.getSetCookie()[0];
      expect(cookie).toMatch(
        /^agentauth_authorize=[^;]+; Path=\/api\/v1\/auth\/authorize; Max-Age=600; HttpOnly; SameSite=Lax$/,
      );
      // the page contract of the browser tests
      expect(res.body).toContain('<label for="agent_id">Agent ID</label>');
      expect(res.body).toContain('<label for="api_key">API key</label>');
      expect(res.body).toMatch(/<input\s+id="api_key"\s+name="api_key"\s+type="password"/);
      expect(res.body).toContain('<button type="submit" class="primary">Sign in</button>');
    });

    it('HTML-escapes a hostile client name', async () => {
      const flow = await aFlow({ name: '<script>alert(1)</script>"&' });
      const page = await consentFor(flow);
      expect(page).not.toContain('<script>alert(1)</script>');
      expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&amp;');
    });
  });

  describe('sign-in', () => {
    async function signInWith(flow: Flow, agentId: string, apiKey: string) {
      const page = await flow.browser.get(url(flow));
      return flow.browser.post(formActionOf(page.body), {
        csrf_token: csrfOf(page.body),
        agent_id: agentId,
        api_key: apiKey,
      });
    }

    it('refuses a wrong key, a key without delegations:write and another tree’s agent: 401, the form again, audited without the key', async () => {
      const flow = await aFlow();
      const weakAgent = await anAgent(t, flow.root, { allowed_scopes: ['agents:read'] });
      const weak = await aKey(t, flow.root, weakAgent);
      const stranger = await aTree(t);
      const wrongKey = `${flow.root.apiKey.slice(0, -4)}xxxx`;
      for (const [agentId, key] of [
        [flow.root.agent.id, wrongKey],
        [weak.agent.id, weak.apiKey],
        [stranger.agent.id, stranger.apiKey],
        ['', ''],
      ]) {
        const res = await signInWith(flow, agentId, key);
        expect(res.status).toBe(401);
        expect(res.location).toBeNull();
        expect(res.body).toMatch(/<div role="alert">Sign-in failed/);
        expect(res.body).toContain('name="agent_id"');
        expect(res.body).not.toContain(key || 'never-empty');
      }
      const events = (await auditEventsAbout([flow.client.id])).filter(
        (e) => e.event_type === 'authorize.sign_in_failed',
      );
      expect(events.map((e) => (e.details as { reason: string }).reason)).toEqual([
        'wrong_secret',
        'missing_delegations_write',
        'other_tree',
        'missing_credentials',
      ]);
      expect(events.every((e) => e.outcome === 'failure')).toBe(true);
      expect(await columnsContaining(wrongKey)).toEqual([]);
      expect(await columnsContaining(weak.apiKey)).toEqual([]);
    });

    it('refuses a forged or missing CSRF token and a missing session with 403, never a redirect', async () => {
      const flow = await aFlow();
      const page = await flow.browser.get(url(flow));
      const action = formActionOf(page.body);
      const fields = { agent_id: flow.root.agent.id, api_key: flow.root.apiKey };
      expectErrorPage(await flow.browser.post(action, { ...fields, csrf_token: 'forged' }), 403);
      expectErrorPage(await flow.browser.post(action, fields), 403);
      const noCookie = new Browser(t.base);
      expectErrorPage(await noCookie.post(action, { ...fields, csrf_token: csrfOf(page.body) }), 403);
      // a tampered cookie
      const tampered = new Browser(t.base);
      tampered.cookies.set('agentauth_authorize', `${flow.browser.cookies.get('agentauth_authorize')}x`);
      expectErrorPage(await tampered.post(action, { ...fields, csrf_token: csrfOf(page.body) }), 403);

      // the decision form too: its token is not the sign-in page's
      const consent = await consentFor(flow);
      const decision = formActionOf(consent);
      expectErrorPage(
        await flow.browser.post(decision, { csrf_token: csrfOf(page.body), decision: 'approve' }),
        403,
      );
      expectErrorPage(
        await new Browser(t.base).post(decision, { csrf_token: csrfOf(consent), decision: 'approve' }),
        403,
      );
    });

    it('refuses an expired session', async () => {
      const flow = await aFlow();
      const page = await flow.browser.get(url(flow));
      t.app.get(Clock).advance(601_000);
      const res = await flow.browser.post(formActionOf(page.body), {
        csrf_token: csrfOf(page.body),
        agent_id: flow.root.agent.id,
        api_key: flow.root.apiKey,
      });
      expectErrorPage(res, 403);
    });
  });

  describe('consent', () => {
    it('shows what cannot be granted unchecked and disabled, and grants only what is approved', async () => {
      const flow = await aFlow({ allowed_scopes: ['agents:read', 'delegations:read', 'policies:read'] });
      // the approver's key lacks policies:read
      const approverAgent = await anAgent(t, flow.root, {
        allowed_scopes: ['agents:read', 'delegations:read', 'delegations:write'],
      });
      const approver = await aKey(t, flow.root, approverAgent);
      const consent = await consentFor(flow, approver, {
        scope: 'agents:read delegations:read policies:read',
      });
      expect(consent).toContain(approverAgent.id);
      expect(consent).toContain('127.0.0.1:53123');
      expect(scopeBoxesOf(consent)).toEqual([
        { scope: 'agents:read', checked: true, disabled: false },
        { scope: 'delegations:read', checked: true, disabled: false },
        { scope: 'policies:read', checked: false, disabled: true },
      ]);
      // the person unchecks delegations:read; a disabled scope sent anyway is ignored
      const params = await approve(flow, consent, ['agents:read', 'policies:read']);
      const res = await redeem(flow, params.code).expect(200);
      expect(res.body.scope).toBe('agents:read');
      expect(decodeJwt(res.body.access_token).payload).toMatchObject({
        sub: approverAgent.id,
        scope: 'agents:read',
      });

      const events = await auditEventsAbout([
        decodeJwt(res.body.access_token).payload.delegation_id as string,
      ]);
      const approved = events.find((e) => e.event_type === 'authorize.approved');
      expect(approved).toMatchObject({ outcome: 'success', actor_agent_id: approverAgent.id });
      expect(approved?.details).toMatchObject({ client_id: flow.client.id, scope: 'agents:read' });
    });

    it('sends invalid_scope back when nothing can be granted', async () => {
      // the client's allowed_scopes do not include policies:read
      const again = await aFlow();
      const signIn = await again.browser.get(url(again, { scope: 'policies:read' }));
      const posted = await again.browser.post(formActionOf(signIn.body), {
        csrf_token: csrfOf(signIn.body),
        agent_id: again.root.agent.id,
        api_key: again.root.apiKey,
      });
      const consent = await again.browser.get(posted.location as string);
      expect(consent.status).toBe(303);
      expect(redirectParams(consent.location)).toMatchObject({ error: 'invalid_scope', state: 'st-123' });
    });

    it('deny → access_denied at the client, audited, no delegation', async () => {
      const flow = await aFlow();
      const consent = await consentFor(flow);
      const res = await flow.browser.post(formActionOf(consent), {
        csrf_token: csrfOf(consent),
        decision: 'deny',
      });
      expect(res.status).toBe(303);
      expect(redirectParams(res.location)).toMatchObject({
        error: 'access_denied',
        state: 'st-123',
        iss: t.config.publicBaseUrl,
      });
      const denied = (await auditEventsAbout([flow.client.id])).filter(
        (e) => e.event_type === 'authorize.denied',
      );
      expect(denied).toHaveLength(1);
      expect(denied[0]).toMatchObject({ outcome: 'denied', actor_agent_id: flow.root.agent.id });
      const list = await request(t.http)
        .get(`${API}/delegations?delegate_agent_id=${flow.client.id}`)
        .set(flow.root.auth)
        .expect(200);
      expect(list.body.items).toEqual([]);
    });

    it('records the approval as a delegation in /delegations; revoking it kills the access and refresh tokens', async () => {
      const flow = await aFlow();
      const { body } = await approvedToken(flow);
      const delegationId = decodeJwt(body.access_token).payload.delegation_id as string;
      const list = await request(t.http)
        .get(`${API}/delegations?delegate_agent_id=${flow.client.id}`)
        .set(flow.root.auth)
        .expect(200);
      expect(list.body.items).toEqual([
        expect.objectContaining({
          id: delegationId,
          kind: 'authorization_code',
          delegator_agent_id: flow.root.agent.id,
          delegate_agent_id: flow.client.id,
          scopes: ['agents:read', 'delegations:read'],
          resource: null,
          max_depth: 1,
          status: 'active',
        }),
      ]);
      const lifetimeMs = Date.parse(list.body.items[0].expires_at) - Date.now();
      expect(lifetimeMs).toBeLessThanOrEqual(t.config.refreshTokenExpireDays * 86400_000);
      expect(lifetimeMs).toBeGreaterThan(t.config.refreshTokenExpireDays * 86400_000 - 120_000);

      // the token works at the management API, with the approver's authority
      await request(t.http)
        .get(`${API}/agents/${flow.root.agent.id}`)
        .set(bearer(body.access_token))
        .expect(200);
      // a refresh by the public client (client_id only) works before the revocation
      const refreshed = await request(t.http)
        .post(`${API}/auth/token`)
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: flow.client.id })
        .expect(200);

      await request(t.http).delete(`${API}/delegations/${delegationId}`).set(flow.root.auth).expect(200);
      expect((await introspect(t, flow.root, body.access_token).expect(200)).body).toEqual({ active: false });
      expect((await introspect(t, flow.root, refreshed.body.access_token).expect(200)).body).toEqual({
        active: false,
      });
      const dead = await request(t.http)
        .post(`${API}/auth/token`)
        .type('form')
        .send({
          grant_type: 'refresh_token',
          refresh_token: refreshed.body.refresh_token,
          client_id: flow.client.id,
        })
        .expect(400);
      expect(dead.body.error).toBe('invalid_grant');
    });

    it('binds the token to a resource server: aud = its identifier, scopes within its scopes', async () => {
      const flow = await aFlow();
      await aScope(t, flow.root, 'tools:run', 'Run the MCP server’s tools');
      await request(t.http)
        .patch(`${API}/agents/${flow.client.id}`)
        .set(flow.root.auth)
        .send({ allowed_scopes: ['agents:read', 'tools:run'] })
        .expect(200);
      const server = await aResourceServer(t, flow.root, { scopes: ['tools:run'] });
      const consent = await consentFor(flow, flow.root, { resource: server.identifier });
      expect(consent).toContain(server.identifier);
      expect(consent).toContain('Run the MCP server’s tools');
      expect(scopeBoxesOf(consent)).toEqual([{ scope: 'tools:run', checked: true, disabled: false }]);
      const params = await approve(flow, consent);
      // a different resource at the token endpoint is refused, the same one accepted
      const other = await redeem(flow, params.code, { resource: 'https://other.example.com/mcp' }).expect(
        400,
      );
      expect(other.body.error).toBe('invalid_target');
      const flow2 = { ...flow, browser: new Browser(t.base) };
      const params2 = await approve(
        flow2,
        await consentFor(flow2, flow.root, { resource: server.identifier }),
      );
      const res = await redeem(flow2, params2.code, { resource: server.identifier }).expect(200);
      expect(decodeJwt(res.body.access_token).payload).toMatchObject({
        aud: server.identifier,
        scope: 'tools:run',
        act: { sub: flow.client.id },
      });
    });
  });

  describe('the authorization_code grant', () => {
    it('refuses a wrong PKCE verifier, a wrong redirect_uri and another client with invalid_grant', async () => {
      const flow = await aFlow();
      const other = await anAgent(t, flow.root, { client_type: 'public', redirect_uris: [CALLBACK] });
      const cases: Record<string, string>[] = [
        { code_verifier: pkce().verifier },
        { code_verifier: 'short' },
        { redirect_uri: 'http://127.0.0.1:9999/callback' },
        { client_id: other.id },
      ];
      for (const extra of cases) {
        const fresh = { ...flow, browser: new Browser(t.base) };
        const params = await approve(fresh, await consentFor(fresh));
        const res = await redeem(flow, params.code, extra).expect(400);
        expect(res.body.error).toBe('invalid_grant');
        // the code is spent: the right request fails too
        expect((await redeem(flow, params.code).expect(400)).body.error).toBe('invalid_grant');
      }
    });

    it('a code used twice → invalid_grant, and the tokens of the first use are revoked', async () => {
      const flow = await aFlow();
      const { code, body } = await approvedToken(flow);
      expect((await introspect(t, flow.root, body.access_token).expect(200)).body.active).toBe(true);
      const again = await redeem(flow, code).expect(400);
      expect(again.body.error).toBe('invalid_grant');
      expect((await introspect(t, flow.root, body.access_token).expect(200)).body).toEqual({ active: false });
      const refresh = await request(t.http)
        .post(`${API}/auth/token`)
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: flow.client.id })
        .expect(400);
      expect(refresh.body.error).toBe('invalid_grant');
      const delegationId = decodeJwt(body.access_token).payload.delegation_id as string;
      const reuse = (await auditEventsAbout([delegationId])).find(
        (e) => e.event_type === 'authorization_code.reuse_detected',
      );
      expect(reuse).toMatchObject({ outcome: 'denied', actor_agent_id: flow.client.id });
    });

    it('an expired code (60 s) → invalid_grant', async () => {
      const flow = await aFlow();
      const params = await approve(flow, await consentFor(flow));
      t.app.get(Clock).advance(61_000);
      expect((await redeem(flow, params.code).expect(400)).body.error).toBe('invalid_grant');
    });

    it('never stores the code itself', async () => {
      const flow = await aFlow();
      const params = await approve(flow, await consentFor(flow));
      expect(await columnsContaining(params.code)).toEqual([]);
    });

    it('binds both tokens to a DPoP key when a proof is sent', async () => {
      const flow = await aFlow();
      const params = await approve(flow, await consentFor(flow));
      const pair = aKeyPair('ES256');
      const htu = `${t.config.publicBaseUrl}${API}/auth/token`;
      const res = await redeem(flow, params.code)
        .set('DPoP', await dpopProof(pair, { htu }))
        .expect(200);
      expect(res.body.token_type).toBe('DPoP');
      expect(decodeJwt(res.body.access_token).payload.cnf).toEqual({ jkt: expect.any(String) });
      // the refresh token needs a proof by the same key
      const noProof = await request(t.http)
        .post(`${API}/auth/token`)
        .type('form')
        .send({
          grant_type: 'refresh_token',
          refresh_token: res.body.refresh_token,
          client_id: flow.client.id,
        })
        .expect(400);
      expect(noProof.body.error).toBe('invalid_dpop_proof');
    });

    it('a confidential client authenticates (private_key_jwt); its client_id alone is not authentication', async () => {
      const flow = await aFlow({ client_type: 'confidential' });
      const pair = aKeyPair('ES256');
      await aPublicKeyCredential(t, flow.root, flow.client, pair.publicJwk);
      const params = await approve(flow, await consentFor(flow));
      const bare = await redeem(flow, params.code).expect(401);
      expect(bare.body.error).toBe('invalid_client');

      const fresh = { ...flow, browser: new Browser(t.base) };
      const params2 = await approve(fresh, await consentFor(fresh));
      const assertion = await clientAssertion(pair, flow.client.id, t.config.publicBaseUrl);
      const res = await redeem(flow, params2.code, assertionParams(assertion)).expect(200);
      expect(decodeJwt(res.body.access_token).payload).toMatchObject({
        sub: flow.root.agent.id,
        client_id: flow.client.id,
        act: { sub: flow.client.id },
      });
    });
  });

  describe('public clients', () => {
    it('hold no credentials and cannot use client_credentials', async () => {
      const flow = await aFlow();
      const key = await request(t.http)
        .post(`${API}/credentials`)
        .set(flow.root.auth)
        .send({ agent_id: flow.client.id })
        .expect(409);
      expect(key.body.type).toMatch(/public_client$/);
      const cc = await request(t.http)
        .post(`${API}/auth/token`)
        .type('form')
        .send({ grant_type: 'client_credentials', client_id: flow.client.id })
        .expect(401);
      expect(cc.body.error).toBe('invalid_client');

      // an agent with a key cannot become public; one without can
      const withKey = await anAgent(t, flow.root, { allowed_scopes: ['agents:read'] });
      const holder = await aKey(t, flow.root, withKey);
      const refused = await request(t.http)
        .patch(`${API}/agents/${withKey.id}`)
        .set(flow.root.auth)
        .send({ client_type: 'public' })
        .expect(409);
      expect(refused.body.type).toMatch(/agent_has_credentials$/);
      await request(t.http)
        .post(`${API}/auth/token`)
        .set(basicAuth(holder.agent.id, holder.apiKey))
        .type('form')
        .send({ grant_type: 'client_credentials' })
        .expect(200);
    });

    it('validates redirect URIs as CONTRACT §11 says, and only a strict ancestor sets them', async () => {
      const root = await aTree(t);
      for (const bad of [
        'http://example.com/cb',
        'https://example.com/cb#x',
        'javascript:alert(1)',
        'data:text/html,hi',
        'myapp:/cb',
        'ftp://example.com/cb',
        '/relative',
        'https://user:pw@example.com/cb',
      ]) {
        const res = await request(t.http)
          .post(`${API}/agents`)
          .set(root.auth)
          .send({ name: 'c', client_type: 'public', redirect_uris: [bad] })
          .expect(400);
        expect(res.body.errors[0].field).toBe('redirect_uris[0]');
      }
      const ok = await anAgent(t, root, {
        client_type: 'public',
        redirect_uris: [
          'https://app.example.com/cb?x=1',
          'http://[::1]/cb',
          'http://localhost:8080/cb',
          'com.example.app:/cb',
        ],
      });
      expect(ok).toMatchObject({
        client_type: 'public',
        redirect_uris: expect.arrayContaining(['com.example.app:/cb']),
      });
      // the agent itself may not change its own redirect URIs (governed)
      const self = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['agents:write'] }));
      const res = await request(t.http)
        .patch(`${API}/agents/${self.agent.id}`)
        .set(self.auth)
        .send({ redirect_uris: ['https://attacker.example.com/cb'] })
        .expect(403);
      expect(res.body.type).toMatch(/not_strict_ancestor$/);
    });
  });
});
