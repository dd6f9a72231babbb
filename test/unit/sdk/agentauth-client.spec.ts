import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, jwtVerify } from 'jose';
import {
  AgentAuthClient,
  type AgentAuthClientOptions,
  algorithmOf,
  JWT_BEARER_ASSERTION_TYPE,
  privateKeyJwt,
  NetworkError,
  OAuthError,
  ProblemError,
  ProtocolError,
} from '@agentauth/sdk';
import {
  deferred,
  FakeClock,
  FakeServer,
  ISSUER,
  json,
  tokenResponse,
  type RecordedRequest,
  urlOf,
} from './fake-server';

const TOKEN = 'POST /api/v1/auth/token';

function setup(options: Partial<AgentAuthClientOptions> = {}) {
  const server = new FakeServer();
  const clock = new FakeClock();
  let n = 0;
  server.on(TOKEN, () => tokenResponse({}, n++));
  const client = new AgentAuthClient({
    issuer: `${ISSUER}/`,
    clientId: 'agent-1',
    clientSecret: 'aa_prefix_secret',
    fetch: server.fetch,
    clock,
    random: () => 1,
    ...options,
  });
  return { server, clock, client };
}

describe('AgentAuthClient', () => {
  describe('discovery', () => {
    it('reads the endpoints from the discovery document once', async () => {
      const { server, client } = setup();
      await client.getToken();
      await client.getToken({ scope: 'other' });
      expect(server.requests.filter((r) => r.url.includes('.well-known'))).toHaveLength(1);
      expect(server.tokenRequests()).toHaveLength(2);
    });

    it('refuses a document that names another issuer (RFC 8414 §3.3), before any token request', async () => {
      const { server, client } = setup();
      server.metadata = { ...server.metadata, issuer: 'https://evil.example' };
      await expect(client.getToken()).rejects.toThrow(ProtocolError);
      expect(server.tokenRequests()).toHaveLength(0);
    });

    it('falls back to the RFC 8414 document when there is no agent-configuration', async () => {
      const server = new FakeServer();
      const clock = new FakeClock();
      const rfc8414 = { ...server.metadata };
      const fetchFn: typeof fetch = async (input, init) => {
        if (urlOf(input).endsWith('/.well-known/agent-configuration')) return json({}, 404);
        if (urlOf(input).endsWith('/.well-known/oauth-authorization-server')) return json(rfc8414);
        return server.fetch(input, init);
      };
      server.on(TOKEN, () => tokenResponse());
      const client = new AgentAuthClient({
        issuer: ISSUER,
        clientId: 'a',
        clientSecret: 's',
        fetch: fetchFn,
        clock,
      });
      await expect(client.getToken()).resolves.toBe('token-0');
    });
  });

  describe('token cache', () => {
    it('keeps one token per (scope, resource); scope order and duplicates do not matter', async () => {
      const { server, client } = setup();
      const a = await client.getToken({ scope: 'b a' });
      expect(await client.getToken({ scope: ['a', 'b', 'a'] })).toBe(a);
      const withResource = await client.getToken({ scope: 'a b', resource: 'https://api.example.test' });
      expect(withResource).not.toBe(a);
      const noScope = await client.getToken();
      expect(new Set([a, withResource, noScope]).size).toBe(3);
      const forms = server.tokenRequests().map((r) => Object.fromEntries(r.form));
      expect(forms).toEqual([
        { grant_type: 'client_credentials', scope: 'a b' },
        { grant_type: 'client_credentials', scope: 'a b', resource: 'https://api.example.test' },
        { grant_type: 'client_credentials' },
      ]);
    });

    it('sends N concurrent callers of one key through a single request (single flight)', async () => {
      const { server, client } = setup();
      const held = deferred<Response>();
      server.on(TOKEN, () => held.promise);
      const callers = Array.from({ length: 10 }, () => client.getToken({ scope: 'a' }));
      await new Promise((r) => setImmediate(r));
      held.resolve(tokenResponse({ access_token: 'shared' }));
      expect(await Promise.all(callers)).toEqual(Array(10).fill('shared'));
      expect(server.tokenRequests()).toHaveLength(1);
    });

    it('does not cache a failure: the next caller asks again', async () => {
      const { server, client } = setup({ retry: { maxRetries: 0 } });
      server.on(TOKEN, () => json({ error: 'invalid_client' }, 401));
      await expect(client.getToken()).rejects.toThrow(OAuthError);
      server.on(TOKEN, () => tokenResponse({ access_token: 'later' }));
      await expect(client.getToken()).resolves.toBe('later');
    });

    it('renews renewBeforeExpirySeconds before expiry, not earlier', async () => {
      const { server, clock, client } = setup({ renewBeforeExpirySeconds: 60 });
      expect(await client.getToken()).toBe('token-0');
      clock.advance((900 - 60) * 1000 - 1);
      expect(await client.getToken()).toBe('token-0');
      clock.advance(1);
      expect(await client.getToken()).toBe('token-1');
      expect(server.tokenRequests()).toHaveLength(2);
    });

    it('renews a short-lived token at half its lifetime (never on every call)', async () => {
      const { server, clock, client } = setup({ renewBeforeExpirySeconds: 60 });
      server.on(TOKEN, () =>
        tokenResponse({ expires_in: 40, access_token: `t${server.tokenRequests().length}` }),
      );
      expect(await client.getToken()).toBe('t1');
      clock.advance(19_999);
      expect(await client.getToken()).toBe('t1');
      clock.advance(1);
      expect(await client.getToken()).toBe('t2');
    });

    it('renews a token that came with a refresh token by refreshing it, and falls back on invalid_grant', async () => {
      const { server, clock, client } = setup();
      const grants: string[] = [];
      server.on(TOKEN, (req: RecordedRequest) => {
        const grant = req.form.get('grant_type')!;
        grants.push(grant);
        if (grant === 'refresh_token' && req.form.get('refresh_token') === 'rt-2') {
          return json({ error: 'invalid_grant' }, 400);
        }
        const n = grants.length;
        return tokenResponse({ access_token: `at-${n}`, refresh_token: `rt-${n}` });
      });
      expect(await client.getToken({ scope: 'a offline_access' })).toBe('at-1');
      clock.advance(900_000);
      expect(await client.getToken({ scope: 'a offline_access' })).toBe('at-2');
      expect(server.tokenRequests()[1].form.get('refresh_token')).toBe('rt-1');
      clock.advance(900_000);
      expect(await client.getToken({ scope: 'a offline_access' })).toBe('at-4');
      expect(grants).toEqual(['client_credentials', 'refresh_token', 'refresh_token', 'client_credentials']);
    });

    it('invalidate() forgets the cached token', async () => {
      const { server, client } = setup();
      await client.getToken({ scope: 'a' });
      client.invalidate({ scope: 'a' });
      await client.getToken({ scope: 'a' });
      expect(server.tokenRequests()).toHaveLength(2);
    });
  });

  describe('retry policy', () => {
    it('retries 5xx with doubling backoff and then succeeds', async () => {
      const { server, clock, client } = setup();
      const answers = [json({}, 503), json({}, 502), tokenResponse()];
      server.on(TOKEN, () => answers.shift()!);
      await expect(client.getToken()).resolves.toBe('token-0');
      expect(clock.sleeps).toEqual([200, 400]);
    });

    it('applies jitter in [half, full] of the backoff', async () => {
      const { server, clock, client } = setup({ random: () => 0 });
      const answers = [json({}, 500), json({}, 500), tokenResponse()];
      server.on(TOKEN, () => answers.shift()!);
      await client.getToken();
      expect(clock.sleeps).toEqual([100, 200]);
    });

    it('waits what Retry-After says on 429 (seconds and HTTP date)', async () => {
      const { server, clock, client } = setup();
      const inFiveSeconds = () => new Date(clock.now() + 5000).toUTCString();
      const answers = [
        () => json({ error: 'rate_limited' }, 429, { 'Retry-After': '7' }),
        () => json({ error: 'rate_limited' }, 429, { 'Retry-After': inFiveSeconds() }),
        () => tokenResponse(),
      ];
      server.on(TOKEN, () => answers.shift()!());
      await client.getToken();
      expect(clock.sleeps).toEqual([7000, 5000]);
    });

    it('gives up at once when Retry-After is longer than maxRetryAfterMs, with the wait in the error', async () => {
      const { server, clock, client } = setup();
      server.on(TOKEN, () => json({ error: 'too_many_requests' }, 429, { 'Retry-After': '3600' }));
      const error = (await client.getToken().catch((e: unknown) => e)) as OAuthError;
      expect(error).toBeInstanceOf(OAuthError);
      expect(error.status).toBe(429);
      expect(error.retryAfterSeconds).toBe(3600);
      expect(clock.sleeps).toEqual([]);
      expect(server.tokenRequests()).toHaveLength(1);
    });

    it('stops after maxRetries and reports the last answer', async () => {
      const { server, client } = setup({ retry: { maxRetries: 2 } });
      server.on(TOKEN, () => json({ error: 'temporarily_unavailable' }, 503));
      await expect(client.getToken()).rejects.toMatchObject({
        error: 'temporarily_unavailable',
        status: 503,
      });
      expect(server.tokenRequests()).toHaveLength(3);
    });

    it('never retries a 4xx other than 429', async () => {
      const { server, client } = setup();
      server.on(TOKEN, () => json({ error: 'invalid_scope' }, 400));
      await expect(client.getToken({ scope: 'x' })).rejects.toMatchObject({ error: 'invalid_scope' });
      expect(server.tokenRequests()).toHaveLength(1);
    });

    it('retries network errors, then throws NetworkError', async () => {
      const { server, clock, client } = setup({ retry: { maxRetries: 1 } });
      await client.metadata();
      server.on(TOKEN, () => {
        throw new TypeError('fetch failed');
      });
      await expect(client.getToken()).rejects.toThrow(NetworkError);
      expect(server.tokenRequests()).toHaveLength(2);
      expect(clock.sleeps).toEqual([200]);
    });

    it('retries a refresh grant on 429 only: a lost answer must not present a rotated token again', async () => {
      const { server, client } = setup();
      server.on(TOKEN, () => json({ error: 'server_error' }, 500));
      await expect(client.refresh('rt')).rejects.toMatchObject({ status: 500 });
      expect(server.tokenRequests()).toHaveLength(1);
      const answers = [json({ error: 'slow_down' }, 429, { 'Retry-After': '1' }), tokenResponse()];
      server.on(TOKEN, () => answers.shift()!);
      await expect(client.refresh('rt')).resolves.toMatchObject({ accessToken: 'token-0' });
    });
  });

  describe('typed errors', () => {
    it('carries the OAuth error, its description, the status and the request id', async () => {
      const { server, client } = setup();
      server.on(TOKEN, () =>
        json({ error: 'invalid_client', error_description: 'Client authentication failed' }, 401, {
          'X-Request-ID': 'rid-42',
        }),
      );
      const error = (await client.getToken().catch((e: unknown) => e)) as OAuthError;
      expect(error).toBeInstanceOf(OAuthError);
      expect(error).toMatchObject({
        error: 'invalid_client',
        errorDescription: 'Client authentication failed',
        status: 401,
        requestId: 'rid-42',
        name: 'OAuthError',
      });
      expect(error.message).toBe('invalid_client: Client authentication failed');
    });

    it('turns a management API problem document into ProblemError with its type and request id', async () => {
      const { server, client } = setup();
      server.on('POST /api/v1/delegations', () =>
        json(
          {
            type: 'https://agentauth.dev/problems/scope_escalation',
            title: 'Forbidden',
            status: 403,
            detail: 'scopes exceed the delegator',
            request_id: 'rid-p',
          },
          403,
        ),
      );
      const error = (await client
        .delegate({ delegateAgentId: 'b', scopes: ['x'], expiresAt: new Date(0) })
        .catch((e: unknown) => e)) as ProblemError;
      expect(error).toBeInstanceOf(ProblemError);
      expect(error).toMatchObject({
        status: 403,
        requestId: 'rid-p',
        message: 'scopes exceed the delegator',
      });
      expect(error.type).toBe('https://agentauth.dev/problems/scope_escalation');
    });

    it('refuses a token response without access_token or expires_in', async () => {
      const { server, client } = setup();
      server.on(TOKEN, () => json({ token_type: 'Bearer', expires_in: 60 }));
      await expect(client.getToken()).rejects.toThrow(ProtocolError);
      server.on(TOKEN, () => json({ access_token: 'x', token_type: 'Bearer' }));
      await expect(client.getToken()).rejects.toThrow(ProtocolError);
    });
  });

  describe('client authentication', () => {
    it('client_secret_basic form-urlencodes id and secret before base64 (RFC 6749 §2.3.1)', async () => {
      const { server, client } = setup({ clientId: 'a b', clientSecret: 'p:w+d' });
      await client.getToken();
      const header = server.tokenRequests()[0].headers.get('authorization')!;
      expect(Buffer.from(header.replace('Basic ', ''), 'base64').toString()).toBe('a+b:p%3Aw%2Bd');
      expect(server.tokenRequests()[0].form.get('client_secret')).toBeNull();
    });

    it('client_secret_post sends the fields in the body and no Authorization header', async () => {
      const { server, client } = setup({ authMethod: 'client_secret_post' });
      await client.getToken();
      const req = server.tokenRequests()[0];
      expect(req.headers.get('authorization')).toBeNull();
      expect(req.form.get('client_id')).toBe('agent-1');
      expect(req.form.get('client_secret')).toBe('aa_prefix_secret');
    });

    it('private_key_jwt signs a fresh assertion for every attempt: iss = sub = client, aud = the issuer', async () => {
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const clock = new FakeClock(Date.UTC(2026, 11, 7, 12, 0, 0));
      const { server, client } = setup({
        clientSecret: undefined,
        clientAuthentication: privateKeyJwt({ clientId: 'agent-1', key: pair.privateKey, kid: 'k1', clock }),
      });
      const answers = [json({}, 503), tokenResponse()];
      server.on(TOKEN, () => answers.shift()!);
      await client.getToken();
      const sent = server.tokenRequests();
      expect(sent).toHaveLength(2);
      const assertions = sent.map((r) => r.form.get('client_assertion')!);
      for (const req of sent) {
        expect(req.headers.get('authorization')).toBeNull();
        expect(req.form.get('client_secret')).toBeNull();
        expect(req.form.get('client_id')).toBe('agent-1');
        expect(req.form.get('client_assertion_type')).toBe(JWT_BEARER_ASSERTION_TYPE);
      }
      const { payload, protectedHeader } = await jwtVerify(assertions[0], pair.publicKey, {
        currentDate: new Date(clock.now()),
      });
      expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'k1' });
      expect(payload).toMatchObject({ iss: 'agent-1', sub: 'agent-1', aud: ISSUER });
      expect(payload.exp! - payload.iat!).toBe(60);
      expect(payload.iat).toBe(clock.now() / 1000);
      expect(decodeJwt(assertions[1]).jti).not.toBe(payload.jti);
    });

    it('private_key_jwt derives alg from the key and refuses what it cannot sign with', () => {
      expect(algorithmOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey)).toBe('RS256');
      expect(algorithmOf(generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey)).toBe('PS256');
      expect(algorithmOf(generateKeyPairSync('ed25519').privateKey)).toBe('EdDSA');
      expect(algorithmOf({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' })).toBe('ES256');
      expect(() => algorithmOf(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey)).toThrow(
        /unsupported key/,
      );
      const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      expect(() => privateKeyJwt({ clientId: 'a', key, alg: 'HS256' as never })).toThrow(/unsupported alg/);
      expect(() => privateKeyJwt({ clientId: 'a', key, lifetimeSeconds: 600 })).toThrow(/lifetimeSeconds/);
    });

    it('needs a secret or a clientAuthentication', () => {
      expect(() => new AgentAuthClient({ issuer: ISSUER, clientId: 'x' })).toThrow(TypeError);
    });
  });

  describe('grants', () => {
    it('exchange sends RFC 8693 parameters and passes resource/audience through', async () => {
      const { server, client } = setup();
      server.on(TOKEN, () =>
        tokenResponse({ issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' }),
      );
      const set = await client.exchange({
        subjectToken: 'subject',
        scope: 'a',
        resource: 'https://api.example.test',
      });
      expect(set.issuedTokenType).toBe('urn:ietf:params:oauth:token-type:access_token');
      expect(Object.fromEntries(server.tokenRequests()[0].form)).toEqual({
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        subject_token: 'subject',
        subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        scope: 'a',
        resource: 'https://api.example.test',
      });
    });

    it('tokenFromDelegation uses the agent_delegation grant and returns the refresh token', async () => {
      const { server, clock, client } = setup();
      server.on(TOKEN, () => tokenResponse({ refresh_token: 'rt' }));
      const set = await client.tokenFromDelegation('dt', { scope: 'a' });
      expect(set).toMatchObject({ refreshToken: 'rt', expiresAt: clock.now() + 900_000 });
      expect(Object.fromEntries(server.tokenRequests()[0].form)).toEqual({
        grant_type: 'urn:agentauth:grant-type:agent_delegation',
        delegation_token: 'dt',
        scope: 'a',
      });
    });

    it('delegate posts the delegation with the agent token and returns the delegation token', async () => {
      const { server, client } = setup();
      server.on('POST /api/v1/delegations', (req) =>
        json({ id: 'd1', delegation_token: 'dt', ...JSON.parse(req.body) }, 201),
      );
      const delegation = await client.delegate({
        delegateAgentId: 'b',
        scopes: ['a'],
        expiresAt: new Date(Date.UTC(2027, 0, 1)),
        maxDepth: 1,
      });
      expect(delegation).toMatchObject({ id: 'd1', delegation_token: 'dt', max_depth: 1 });
      const post = server.requests.find((r) => r.url.endsWith('/delegations'))!;
      expect(post.headers.get('authorization')).toBe('Bearer token-0');
      expect(JSON.parse(post.body)).toEqual({
        delegate_agent_id: 'b',
        scopes: ['a'],
        expires_at: '2027-01-01T00:00:00.000Z',
        max_depth: 1,
      });
    });

    it('revoke and introspect authenticate the client at their endpoints', async () => {
      const { server, client } = setup();
      server.on('POST /api/v1/auth/token/revoke', () => new Response(null, { status: 200 }));
      server.on('POST /api/v1/auth/token/introspect', () => json({ active: true, sub: 's' }));
      await client.revoke('t1', 'access_token');
      await expect(client.introspect('t2')).resolves.toEqual({ active: true, sub: 's' });
      const [revoke, introspect] = server.requests.filter((r) => r.method === 'POST');
      expect(Object.fromEntries(revoke.form)).toEqual({ token: 't1', token_type_hint: 'access_token' });
      expect(revoke.headers.get('authorization')).toMatch(/^Basic /);
      expect(introspect.form.get('token')).toBe('t2');
    });
  });

  describe('fetch()', () => {
    it('attaches the token and retries once with a new token on invalid_token', async () => {
      const { server, client } = setup();
      const seen: string[] = [];
      server.on('GET /resource', (req) => {
        seen.push(req.headers.get('authorization')!);
        return seen.length === 1
          ? new Response(null, {
              status: 401,
              headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
            })
          : json({ ok: true });
      });
      const res = await client.fetch(`${ISSUER}/resource`, {}, { scope: 'a' });
      expect(res.status).toBe(200);
      expect(seen).toEqual(['Bearer token-0', 'Bearer token-1']);
    });

    it('does not loop: a second invalid_token is returned to the caller', async () => {
      const { server, client } = setup();
      server.on(
        'GET /resource',
        () =>
          new Response(null, {
            status: 401,
            headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
          }),
      );
      expect((await client.fetch(`${ISSUER}/resource`)).status).toBe(401);
      expect(server.requests.filter((r) => r.url.endsWith('/resource'))).toHaveLength(2);
    });

    it('does not renew on a 401 without invalid_token, nor on a 403', async () => {
      const { server, client } = setup();
      server.on(
        'GET /a',
        () => new Response(null, { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } }),
      );
      server.on('GET /b', () => new Response(null, { status: 403 }));
      expect((await client.fetch(`${ISSUER}/a`)).status).toBe(401);
      expect((await client.fetch(`${ISSUER}/b`)).status).toBe(403);
      expect(server.tokenRequests()).toHaveLength(1);
    });

    it('uses the DPoP scheme for a DPoP token type', async () => {
      const { server, client } = setup();
      server.on(TOKEN, () => tokenResponse({ token_type: 'DPoP' }));
      let header = '';
      server.on('GET /r', (req) => {
        header = req.headers.get('authorization')!;
        return json({});
      });
      await client.fetch(`${ISSUER}/r`);
      expect(header).toBe('DPoP token-0');
    });

    it('retries a POST on 429 only, a GET on 5xx too', async () => {
      const { server, client } = setup();
      let posts = 0;
      let gets = 0;
      server.on('POST /r', () => (++posts === 1 ? json({}, 503) : json({})));
      server.on('GET /r', () => (++gets === 1 ? json({}, 503) : json({})));
      expect((await client.fetch(`${ISSUER}/r`, { method: 'POST', body: '{}' })).status).toBe(503);
      expect((await client.fetch(`${ISSUER}/r`)).status).toBe(200);
      expect([posts, gets]).toEqual([1, 2]);
    });
  });
});
