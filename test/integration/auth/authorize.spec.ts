import request from 'supertest';
import { listeningApp, type TestApp } from '../../support/app';
import { type AgentJson, API, aTree, anAgent, type Caller } from '../../factories/agents';
import { decodeJwt } from '../../factories/delegations';
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
});
