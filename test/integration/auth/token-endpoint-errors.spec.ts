import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { BUILT_IN_SCOPES } from '@agentauth/scopes';
import { createTestApp, type TestApp } from '../../support/app';
import { basicAuth } from '../../factories/agents';
import { auditEventsOf } from '../../factories/db';

/** The token endpoint's error surface (RFC 6749 §5.2), independent of any grant. */
describe('POST /auth/token errors', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const token = () => request(t.http).post('/api/v1/auth/token');

  it('answers a missing grant_type with invalid_request and no-store', async () => {
    const res = await token().type('form').send('scope=agents:read').expect(400);
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'The parameter "grant_type" is required',
    });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['pragma']).toBe('no-cache');
  });

  it('answers an unknown grant with unsupported_grant_type', async () => {
    const res = await token().type('form').send('grant_type=password&username=a&password=b').expect(400);
    expect(res.body.error).toBe('unsupported_grant_type');
  });

  it('audits refusals before client authentication: token.issue_failed, the client id only if sent, no secret', async () => {
    const missing = await token().type('form').send('scope=agents:read').expect(400);
    expect(await auditEventsOf(missing.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'token.issue_failed',
        outcome: 'failure',
        actor_agent_id: null,
        root_agent_id: null,
        target_type: 'token',
        target_id: null,
        details: {
          error: 'invalid_request',
          cause: 'before_client_authentication',
          description: 'The parameter "grant_type" is required',
        },
      }),
    ]);

    const clientId = randomUUID();
    const secret = `aa_${randomUUID().slice(0, 8)}_${randomUUID()}`;
    const unsupported = await token()
      .set(basicAuth(clientId, secret))
      .type('form')
      .send({ grant_type: 'password', username: 'someone', password: 'hunter2-password' })
      .expect(400);
    expect(unsupported.body.error).toBe('unsupported_grant_type');
    const events = await auditEventsOf(unsupported.headers['x-request-id']);
    expect(events).toEqual([
      expect.objectContaining({
        event_type: 'token.issue_failed',
        outcome: 'failure',
        actor_agent_id: null,
        target_type: 'token',
        target_id: null,
        details: {
          claimed_client_id: clientId,
          grant_type: 'password',
          error: 'unsupported_grant_type',
          cause: 'before_client_authentication',
          description: 'The grant type "password" is not supported',
        },
      }),
    ]);
    for (const sent of [secret, 'hunter2-password', 'someone']) {
      expect(JSON.stringify(events)).not.toContain(sent);
    }

    // client_secret_post: the body's client_id, never its secret; a client_id that is no agent id is not kept.
    const posted = await token()
      .type('form')
      .send({ grant_type: 'nope', client_id: clientId, client_secret: secret })
      .expect(400);
    const [post] = await auditEventsOf(posted.headers['x-request-id']);
    expect(post).toMatchObject({
      actor_agent_id: null,
      target_type: 'token',
      target_id: null,
      details: expect.objectContaining({ claimed_client_id: clientId }),
    });
    expect(JSON.stringify(post)).not.toContain(secret);
    const junk = await token()
      .type('form')
      .send({ grant_type: 'nope', client_id: 'not-an-agent-id', client_secret: secret })
      .expect(400);
    const [junkEvent] = await auditEventsOf(junk.headers['x-request-id']);
    expect(junkEvent).toMatchObject({ target_type: 'token', target_id: null });
    expect(JSON.stringify(junkEvent)).not.toContain('not-an-agent-id');
  });

  it('refuses repeated parameters', async () => {
    const res = await token()
      .type('form')
      .send('grant_type=client_credentials&grant_type=password')
      .expect(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('accepts JSON bodies and rejects malformed ones in the OAuth shape', async () => {
    const ok = await token().send({ grant_type: 'nope' }).expect(400);
    expect(ok.body.error).toBe('unsupported_grant_type');
    const bad = await token().set('Content-Type', 'application/json').send('{"grant_type":').expect(400);
    expect(bad.body).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
  });

  it('answers a wrong content type with 415 in the OAuth shape', async () => {
    const res = await token()
      .set('Content-Type', 'text/plain')
      .send('grant_type=client_credentials')
      .expect(415);
    expect(res.body.error).toBe('invalid_request');
  });

  it('answers an oversized body with 413 in the OAuth shape', async () => {
    const res = await token()
      .type('form')
      .send(`grant_type=client_credentials&scope=${'a'.repeat(t.config.bodyLimitBytes)}`)
      .expect(413);
    expect(res.body.error).toBe('invalid_request');
  });
});

describe('discovery', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves RFC 8414 metadata with absolute URLs under the issuer', async () => {
    const res = await request(t.http).get('/.well-known/oauth-authorization-server').expect(200);
    const issuer = t.config.publicBaseUrl;
    const methods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'];
    const algs = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'];
    expect(res.body).toEqual({
      issuer,
      authorization_endpoint: `${issuer}/api/v1/auth/authorize`,
      token_endpoint: `${issuer}/api/v1/auth/token`,
      jwks_uri: `${issuer}/api/v1/auth/jwks`,
      introspection_endpoint: `${issuer}/api/v1/auth/token/introspect`,
      revocation_endpoint: `${issuer}/api/v1/auth/token/revoke`,
      grant_types_supported: expect.arrayContaining([
        'client_credentials',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:token-exchange',
        'authorization_code',
      ]),
      // `none` for public clients (CONTRACT §9, §11)
      token_endpoint_auth_methods_supported: [...methods, 'none'],
      introspection_endpoint_auth_methods_supported: methods,
      revocation_endpoint_auth_methods_supported: methods,
      // private_key_jwt (CONTRACT §9): asymmetric algorithms only
      token_endpoint_auth_signing_alg_values_supported: algs,
      introspection_endpoint_auth_signing_alg_values_supported: algs,
      revocation_endpoint_auth_signing_alg_values_supported: algs,
      dpop_signing_alg_values_supported: algs,
      // the built-in scopes, and nothing that is not a scope (offline_access is a reserved word, CONTRACT §4)
      scopes_supported: [...BUILT_IN_SCOPES],
      // CONTRACT §11: the authorization-code flow, PKCE S256 only, RFC 9207 `iss` in authorization responses
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      service_documentation: `${issuer}/docs`,
    });
    expect(res.body.scopes_supported).not.toContain('offline_access');
  });

  it('serves the agent configuration as a superset', async () => {
    const oauth = await request(t.http).get('/.well-known/oauth-authorization-server').expect(200);
    const agent = await request(t.http).get('/.well-known/agent-configuration').expect(200);
    expect(agent.body).toMatchObject(oauth.body);
    expect(agent.body.agents_endpoint).toBe(`${t.config.publicBaseUrl}/api/v1/agents`);
    expect(agent.body.delegations_endpoint).toBe(`${t.config.publicBaseUrl}/api/v1/delegations`);
  });
});
