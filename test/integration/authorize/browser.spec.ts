import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { API, aTree, type AgentJson, type Caller } from '../../factories/agents';
import { aResourceServer } from '../../factories/resource-servers';
import { aScope } from '../../factories/scopes';
import { listeningApp, type TestApp } from '../../support/app';
import {
  anApprover,
  aPublicClient,
  authorizeUrl,
  type CallbackServer,
  decide,
  introspect,
  navigation,
  pkce,
  signIn,
  signInAndDecide,
  startCallbackServer,
  tokenRequest,
} from '../../support/authorize-flow';
import { describeWithBrowser, useBrowser } from '../../support/browser';

const SCOPE = 'mcp:tools';
const OTHER_SCOPE = 'mcp:admin';
const EVIL_SCOPE = 'mcp:evil';
const HOSTILE_NAME = '<img src=x onerror=alert(1)>';
// `WRITE_SCREENSHOTS=1` refreshes docs/images/authorize-*.png (docs/authorize.md); CI never writes the tree.
const SCREENSHOTS = process.env.WRITE_SCREENSHOTS === '1';
const IMAGES = join(__dirname, '..', '..', '..', 'docs', 'images');

/**
 * The sign-in and consent pages of `GET /auth/authorize` (CONTRACT §11) in a real headless Chromium, and what
 * the client gets back: Deny, CSRF, HTML escaping, PKCE, single-use codes, unregistered redirect URIs, and
 * the approval's delegation dying with its tokens. Pages are driven by their agreed contract (labels, input
 * names, button texts), as a person would use them.
 */
describeWithBrowser('authorization endpoint in a real browser', () => {
  const browser = useBrowser();
  let t: TestApp & { base: string };
  let root: Caller;
  let resource: string;
  let callbacks: CallbackServer;
  let client: AgentJson;
  let approver: Caller;

  beforeAll(async () => {
    t = await listeningApp();
    root = await aTree(t);
    await aScope(t, root, SCOPE, 'Call the tools of the MCP server');
    await aScope(t, root, OTHER_SCOPE, 'Administer the MCP server');
    await aScope(t, root, EVIL_SCOPE, HOSTILE_NAME);
    resource = (
      await aResourceServer(t, root, { name: 'Files MCP server', scopes: [SCOPE, OTHER_SCOPE, EVIL_SCOPE] })
    ).identifier;
    callbacks = await startCallbackServer();
    client = await aPublicClient(t, root, {
      name: 'Test MCP client',
      redirect_uris: [callbacks.registeredUri],
      allowed_scopes: [SCOPE, OTHER_SCOPE],
    });
    // The approver can grant SCOPE only: OTHER_SCOPE is shown unchecked and left out.
    approver = await anApprover(t, root, [SCOPE]);
  });
  afterAll(async () => {
    await callbacks?.close();
    await t?.close();
  });

  const who = () => ({ agentId: approver.agent.id, apiKey: approver.apiKey });

  /** An authorization request of `client` (S256), with a fresh state and verifier. */
  function anAuthorization(overrides: Record<string, string | undefined> = {}) {
    const { verifier, challenge } = pkce();
    const state = `state-${Math.random().toString(36).slice(2)}`;
    const url = authorizeUrl(t.base, {
      response_type: 'code',
      client_id: client.id,
      redirect_uri: callbacks.redirectUri,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      scope: SCOPE,
      resource,
      state,
      ...overrides,
    });
    return { url, verifier, state };
  }

  async function aPage(): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    page.on('dialog', (dialog) => {
      throw new Error(`unexpected dialog: ${dialog.type()} ${dialog.message()}`);
    });
    return page;
  }

  /** No redirect reached the client for this authorization request. */
  function expectNoCallback(state: string): void {
    expect(callbacks.received.filter((u) => u.searchParams.get('state') === state)).toEqual([]);
  }

  /** Signs in and approves; the code and the callback URL. */
  async function approvedCode(auth: { url: string; state: string }) {
    const page = await aPage();
    const landed = await signInAndDecide(page, auth.url, who(), 'Approve');
    expect(landed.status()).toBe(200);
    const callback = await callbacks.forState(auth.state);
    expect(callback.searchParams.get('iss')).toBe(t.base);
    const code = callback.searchParams.get('code');
    if (!code) throw new Error(`no code: ${callback.href}`);
    return { code, callback };
  }

  const exchange = (code: string, verifier: string, extra: Record<string, string> = {}) =>
    tokenRequest(t.base, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: callbacks.redirectUri,
      code_verifier: verifier,
      client_id: client.id,
      ...extra,
    });

  it('sign-in page, then consent page: client name, grantable scopes checked, the rest disabled', async () => {
    const page = await aPage();
    const auth = anAuthorization({ scope: `${SCOPE} ${OTHER_SCOPE}` });
    const opened = await navigation(page, () => page.goto(auth.url));
    expect(opened.status()).toBe(200);
    expect(opened.headers()['cache-control']).toContain('no-store');
    expect(opened.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await expect(page.getByLabel('API key').getAttribute('type')).resolves.toBe('password');
    expect(await page.locator('form[method="post" i] input[type="hidden"][name="csrf_token"]').count()).toBe(
      1,
    );
    if (SCREENSHOTS) {
      mkdirSync(IMAGES, { recursive: true });
      await page.getByLabel('Agent ID').fill(approver.agent.id);
      await page.screenshot({ path: join(IMAGES, 'authorize-sign-in.png'), fullPage: true });
    }

    const consent = await signIn(page, who());
    expect(consent.status()).toBe(200);
    await expect(page.locator('h1').innerText()).resolves.toContain('Test MCP client');
    const granted = page.locator(`input[type="checkbox"][name="scope"][value="${SCOPE}"]`);
    const notGrantable = page.locator(`input[type="checkbox"][name="scope"][value="${OTHER_SCOPE}"]`);
    await expect(granted.isChecked()).resolves.toBe(true);
    await expect(granted.isDisabled()).resolves.toBe(false);
    await expect(notGrantable.isChecked()).resolves.toBe(false);
    await expect(notGrantable.isDisabled()).resolves.toBe(true);
    expect(await page.locator('input[type="hidden"][name="csrf_token"]').count()).toBe(1);
    const body = await page.locator('body').innerText();
    expect(body).toContain(client.id);
    expect(body).toContain(resource);
    expect(body).toContain('127.0.0.1');
    expect(body).toContain(approver.agent.id);
    if (SCREENSHOTS) await page.screenshot({ path: join(IMAGES, 'authorize-consent.png'), fullPage: true });

    // Approving grants what was grantable, and the token response says what that was (RFC 6749 §3.3).
    expect((await decide(page, 'Approve')).status()).toBe(200);
    const code = (await callbacks.forState(auth.state)).searchParams.get('code')!;
    const tokens = await exchange(code, auth.verifier);
    expect(tokens).toMatchObject({ status: 200, body: { scope: SCOPE } });
  });

  it('a wrong API key re-renders the sign-in page (401) with an alert, and never echoes the key', async () => {
    const page = await aPage();
    await navigation(page, () => page.goto(anAuthorization().url));
    const wrongKey = `${approver.apiKey.slice(0, -4)}AAAA`;
    const res = await signIn(page, { agentId: approver.agent.id, apiKey: wrongKey });
    expect(res.status()).toBe(401);
    await expect(page.getByRole('alert').innerText()).resolves.not.toBe('');
    expect(await page.content()).not.toContain(wrongKey);
    // The page is still the sign-in form: the person can try again.
    expect(await page.getByRole('button', { name: 'Sign in' }).count()).toBe(1);
  });

  it('Deny → error=access_denied at the client redirect, with iss and state', async () => {
    const page = await aPage();
    const auth = anAuthorization();
    const landed = await signInAndDecide(page, auth.url, who(), 'Deny');
    expect(landed.status()).toBe(200);
    const callback = await callbacks.forState(auth.state);
    expect(`${callback.origin}${callback.pathname}`).toBe(callbacks.redirectUri);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('iss')).toBe(t.base);
    expect(callback.searchParams.get('state')).toBe(auth.state);
    expect(callback.searchParams.get('code')).toBeNull();
  });

  it('a forged CSRF token on the consent page is refused: 403 page, no redirect, nothing granted', async () => {
    const page = await aPage();
    const auth = anAuthorization();
    await navigation(page, () => page.goto(auth.url));
    expect((await signIn(page, who())).status()).toBe(200);
    await page.locator('input[name="csrf_token"]').evaluate((input: { value: string }) => {
      input.value = `${input.value.slice(0, -2)}xx`;
    });
    const res = await decide(page, 'Approve');
    expect(res.status()).toBe(403);
    expect(new URL(page.url()).origin).toBe(t.base);
    await expect(page.getByRole('alert').innerText()).resolves.not.toBe('');
    expectNoCallback(auth.state);
  });

  it('a forged CSRF token on the sign-in page is refused the same way', async () => {
    const page = await aPage();
    await navigation(page, () => page.goto(anAuthorization().url));
    await page.locator('input[name="csrf_token"]').evaluate((input: { value: string }) => {
      input.value = 'forged';
    });
    const res = await signIn(page, who());
    expect(res.status()).toBe(403);
    await expect(page.getByRole('alert').innerText()).resolves.not.toBe('');
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
  });

  it('consent without the session cookie (another browser) is refused: 403, no redirect', async () => {
    const page = await aPage();
    const auth = anAuthorization();
    await navigation(page, () => page.goto(auth.url));
    expect((await signIn(page, who())).status()).toBe(200);
    await page.context().clearCookies();
    const res = await decide(page, 'Approve');
    expect(res.status()).toBe(403);
    expect(new URL(page.url()).origin).toBe(t.base);
    expectNoCallback(auth.state);
  });

  /** A page that counts dialogs (an executed `alert`) instead of failing on them. */
  async function aWatchedPage(): Promise<{ page: Page; dialogs: () => number }> {
    const page = await (await browser.newContext()).newPage();
    let dialogs = 0;
    page.on('dialog', (dialog) => {
      dialogs++;
      void dialog.dismiss();
    });
    return { page, dialogs: () => dialogs };
  }

  /** Nothing of `HOSTILE_NAME` became markup: no element, no handler, no dialog. */
  async function expectNoInjection(page: Page, dialogs: () => number): Promise<void> {
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('[onerror]').count()).toBe(0);
    expect(dialogs()).toBe(0);
  }

  it('the consent page HTML-escapes a hostile client name (and approver name, scope description)', async () => {
    const hostile = await aPublicClient(t, root, {
      name: HOSTILE_NAME,
      redirect_uris: [callbacks.registeredUri],
      allowed_scopes: [SCOPE, EVIL_SCOPE],
    });
    // The signed-in agent's name is shown too; so is each scope's description (EVIL_SCOPE: not grantable).
    const hostileApprover = await anApprover(t, root, [SCOPE]);
    await request(t.http)
      .patch(`${API}/agents/${hostileApprover.agent.id}`)
      .set(root.auth)
      .send({ name: HOSTILE_NAME })
      .expect(200);
    const { page, dialogs } = await aWatchedPage();
    await navigation(page, () =>
      page.goto(anAuthorization({ client_id: hostile.id, scope: `${SCOPE} ${EVIL_SCOPE}` }).url),
    );
    // The sign-in page names the client too.
    await expectNoInjection(page, dialogs);
    const consent = await signIn(page, { agentId: hostileApprover.agent.id, apiKey: hostileApprover.apiKey });
    expect(consent.status()).toBe(200);
    await expect(page.locator('h1').innerText()).resolves.toContain(HOSTILE_NAME);
    const text = await page.locator('body').innerText();
    // Client name (heading and details), approver name, scope description: each shown as text.
    expect(text.split(HOSTILE_NAME).length - 1).toBeGreaterThanOrEqual(3);
    await expectNoInjection(page, dialogs);
  });

  it('reflected request values are escaped too: a hostile state, scope or redirect URI', async () => {
    const { page, dialogs } = await aWatchedPage();
    // An unregistered redirect URI is shown on the error page (400), never followed.
    const badRedirect = `${callbacks.redirectUri}?x="><img src=x onerror=alert(1)>`;
    const res = await navigation(page, () => page.goto(anAuthorization({ redirect_uri: badRedirect }).url));
    expect(res.status()).toBe(400);
    await expectNoInjection(page, dialogs);
    // A hostile state travels through the pages to the client, unharmed and unexecuted.
    const state = `"><img src=x onerror=alert(1)>`;
    await navigation(page, () => page.goto(anAuthorization({ state }).url));
    await expectNoInjection(page, dialogs);
    expect((await signIn(page, who())).status()).toBe(200);
    await expectNoInjection(page, dialogs);
    await decide(page, 'Deny');
    const callback = await callbacks.forState(state);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(await page.locator('body').innerText()).toContain('You can close this window');
    // An unknown scope never reaches a page as markup (refused back at the client, or shown as text).
    await navigation(page, () => page.goto(anAuthorization({ scope: `${SCOPE} <b>x</b>` }).url));
    expect(await page.locator('b').filter({ hasText: /^x$/ }).count()).toBe(0);
    await expectNoInjection(page, dialogs);
  });

  it('a wrong PKCE verifier → invalid_grant (and the code is spent)', async () => {
    const auth = anAuthorization();
    const { code } = await approvedCode(auth);
    const wrong = await exchange(code, pkce().verifier);
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // …and no token came out of it: the right verifier afterwards finds the code used.
    const late = await exchange(code, auth.verifier);
    expect(late).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('a code used twice → invalid_grant, and the tokens of the first use become inactive', async () => {
    const auth = anAuthorization();
    const { code } = await approvedCode(auth);
    const first = await exchange(code, auth.verifier);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ scope: SCOPE, refresh_token: expect.any(String) });
    const accessToken = first.body.access_token as string;
    expect(await introspect(t.base, root, accessToken)).toMatchObject({
      active: true,
      sub: approver.agent.id,
      client_id: client.id,
      act: { sub: client.id },
      aud: resource,
    });

    const second = await exchange(code, auth.verifier);
    expect(second).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await introspect(t.base, root, accessToken)).toEqual({ active: false });
    const refresh = await tokenRequest(t.base, {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
      client_id: client.id,
    });
    expect(refresh).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('an unregistered redirect URI → the HTML error page (400), never a redirect', async () => {
    const page = await aPage();
    for (const redirect of [
      callbacks.redirectUri.replace('/callback', '/elsewhere'),
      `${callbacks.redirectUri}?extra=1`,
      'https://attacker.example/callback',
    ]) {
      const auth = anAuthorization({ redirect_uri: redirect });
      const res = await navigation(page, () => page.goto(auth.url));
      expect({ redirect, status: res.status() }).toEqual({ redirect, status: 400 });
      expect(res.headers()['content-type']).toMatch(/^text\/html/);
      expect(res.headers()['cache-control']).toContain('no-store');
      expect(res.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(new URL(page.url()).origin).toBe(t.base);
      await expect(page.getByRole('alert').innerText()).resolves.not.toBe('');
      expect(await page.getByLabel('API key').count()).toBe(0);
      expectNoCallback(auth.state);
    }
  });

  it('an unknown client → the HTML error page (400), never a redirect', async () => {
    const page = await aPage();
    const res = await navigation(page, () =>
      page.goto(anAuthorization({ client_id: '00000000-0000-4000-8000-000000000000' }).url),
    );
    expect(res.status()).toBe(400);
    expect(new URL(page.url()).origin).toBe(t.base);
  });
});
