import { createHash, randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page, Response } from 'playwright-core';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { type AgentJson, anAgent, aKey, basicAuth, type Caller, type HttpTarget } from '../factories/agents';

/**
 * The pieces of the authorization-code flow (CONTRACT §11) the end-to-end tests share: PKCE, a loopback
 * redirect target, the person at the browser (sign in, approve/deny — by the agreed page contract: labels,
 * names and button texts, never CSS), raw calls to the token and introspection endpoints, and an MCP SDK
 * `OAuthClientProvider` for a pre-registered public client.
 */

/** An RFC 7636 S256 pair. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * The client's redirect target: a loopback HTTP server (as a native/CLI MCP client runs one, RFC 8252 §7.3)
 * that records every request and answers a small page. `registeredUri` has no port (the server ignores the
 * port of loopback URIs); `redirectUri` is the one the client sends, with this server's port.
 */
export interface CallbackServer {
  registeredUri: string;
  redirectUri: string;
  /** Every callback received, in order. */
  received: URL[];
  /**
   * The callback of the authorization request with this `state` (already received, or the next to arrive):
   * matching by state keeps one test's redirect from being taken by another's.
   */
  forState(state: string, timeoutMs?: number): Promise<URL>;
  close(): Promise<void>;
}

export async function startCallbackServer(path = '/callback'): Promise<CallbackServer> {
  const received: URL[] = [];
  const waiters = new Map<string, (url: URL) => void>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    // Only the redirect path counts: the browser also asks this origin for /favicon.ico.
    if (url.pathname !== path) {
      res.writeHead(404).end();
      return;
    }
    received.push(url);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Done</title><p>You can close this window.</p>');
    const state = url.searchParams.get('state');
    if (state !== null) waiters.get(state)?.(url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    registeredUri: `http://127.0.0.1${path}`,
    redirectUri: `http://127.0.0.1:${port}${path}`,
    received,
    forState(state, timeoutMs = 30_000) {
      const already = received.find((u) => u.searchParams.get('state') === state);
      if (already) return Promise.resolve(already);
      return new Promise<URL>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(state);
          reject(new Error(`no callback for state ${state} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.set(state, (url) => {
          clearTimeout(timer);
          waiters.delete(state);
          resolve(url);
        });
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

/** A public OAuth client (§11): an agent with `client_type: public` and registered redirect URIs. */
export async function aPublicClient(
  t: HttpTarget,
  caller: Caller,
  body: Record<string, unknown> & { redirect_uris: string[] },
): Promise<AgentJson> {
  return anAgent(t, caller, { client_type: 'public', ...body });
}

/**
 * Someone who can approve in the browser: an agent of the tree with a key whose scopes include
 * `delegations:write` and the scopes to grant.
 */
export async function anApprover(t: HttpTarget, root: Caller, scopes: string[]): Promise<Caller> {
  const allowed = ['delegations:write', ...scopes];
  const agent = await anAgent(t, root, {
    name: `approver-${randomUUID().slice(0, 8)}`,
    allowed_scopes: allowed,
  });
  return aKey(t, root, agent, { scopes: allowed });
}

/** `GET /api/v1/auth/authorize?…` on the issuer. */
export function authorizeUrl(issuer: string, params: Record<string, string | undefined>): string {
  const url = new URL('/api/v1/auth/authorize', issuer);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

/**
 * Runs `action` (a click, a goto) and answers the response of the document it leads to: the last response
 * of the main frame's navigation, after any redirects (a 3xx is followed, so it is never the answer).
 */
export async function navigation(page: Page, action: () => Promise<unknown>): Promise<Response> {
  const done = page.waitForResponse(
    (r) =>
      r.request().isNavigationRequest() &&
      r.frame() === page.mainFrame() &&
      (r.status() < 300 || r.status() >= 400),
  );
  const [response] = await Promise.all([done, action()]);
  await page.waitForLoadState('domcontentloaded');
  return response;
}

/** Fills the sign-in page (agent id, API key) and submits it; the response of the page that follows. */
export async function signIn(page: Page, who: { agentId: string; apiKey: string }): Promise<Response> {
  await page.getByLabel('Agent ID').fill(who.agentId);
  await page.getByLabel('API key').fill(who.apiKey);
  return navigation(page, () => page.getByRole('button', { name: 'Sign in' }).click());
}

/** Clicks Approve or Deny on the consent page; the response of the page that follows. */
export function decide(page: Page, decision: 'Approve' | 'Deny'): Promise<Response> {
  return navigation(page, () => page.getByRole('button', { name: decision, exact: true }).click());
}

/** The person at the browser: opens the authorization URL, signs in and decides. */
export async function signInAndDecide(
  page: Page,
  url: string,
  who: { agentId: string; apiKey: string },
  decision: 'Approve' | 'Deny' = 'Approve',
): Promise<Response> {
  const first = await navigation(page, () => page.goto(url));
  if (first.status() !== 200) {
    throw new Error(`authorize page: ${first.status()} ${await page.content()}`);
  }
  const consent = await signIn(page, who);
  if (consent.status() !== 200) {
    throw new Error(`sign-in: ${consent.status()} ${await page.content()}`);
  }
  return decide(page, decision);
}

/** A raw OAuth call (form-encoded, as RFC 6749 says): status and parsed JSON body. */
export async function oauthPost(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', ...headers },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** `POST /auth/token` on the issuer. */
export function tokenRequest(
  issuer: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  return oauthPost(`${issuer}/api/v1/auth/token`, params, headers);
}

/** RFC 7662 introspection by `by` (a root: its key carries `tokens:introspect`). */
export async function introspect(
  issuer: string,
  by: { agent: { id: string }; apiKey: string },
  token: string,
): Promise<Record<string, unknown>> {
  const res = await oauthPost(
    `${issuer}/api/v1/auth/token/introspect`,
    { token },
    basicAuth(by.agent.id, by.apiKey),
  );
  if (res.status !== 200) throw new Error(`introspect: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * The MCP SDK's `OAuthClientProvider` for a pre-registered client, public by default (no dynamic registration): what an
 * MCP client application implements. `redirectToAuthorization` hands the URL to `openBrowser` (the test's
 * headless Chromium); everything else is the in-memory storage the SDK's own examples use.
 */
export class PublicClientProvider implements OAuthClientProvider {
  private info: OAuthClientInformationMixed;
  private saved?: OAuthTokens;
  private verifier?: string;
  /** The `state` of the last authorization request. */
  lastState?: string;
  /** Every authorization URL the SDK asked to open. */
  readonly authorizationUrls: URL[] = [];

  constructor(
    clientId: string,
    private readonly redirect: string,
    private readonly openBrowser: (url: URL) => void,
    /** A confidential client's API key (the SDK then authenticates with client_secret_basic). */
    private readonly clientSecret?: string,
  ) {
    this.info = clientSecret ? { client_id: clientId, client_secret: clientSecret } : { client_id: clientId };
  }

  get redirectUrl(): string {
    return this.redirect;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'AgentAuth test MCP client',
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: this.clientSecret ? 'client_secret_basic' : 'none',
    };
  }

  state(): string {
    this.lastState = randomBytes(16).toString('base64url');
    return this.lastState;
  }

  clientInformation(): OAuthClientInformationMixed {
    return this.info;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.info = info;
  }

  tokens(): OAuthTokens | undefined {
    return this.saved;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrls.push(url);
    this.openBrowser(url);
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.verifier) throw new Error('no code verifier saved');
    return this.verifier;
  }

  /** What the SDK calls when the server refused them (e.g. `invalid_grant` on refresh): forget them. */
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'all' || scope === 'tokens') this.saved = undefined;
    if (scope === 'all' || scope === 'verifier') this.verifier = undefined;
  }
}
