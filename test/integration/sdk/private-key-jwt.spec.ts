import { createSecretKey } from 'node:crypto';
import { AgentAuthClient, OAuthError, privateKeyJwt } from '@agentauth/sdk';
import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import { anAgent, aTree, type Caller, claimsOf } from '../../factories/agents';
import { aKeyPair, aPublicKeyCredential } from '../../factories/public-keys';
import { FakeClock } from '../../unit/sdk/fake-server';
import type { TestApp } from '../../support/app';
import { countingFetch, listeningApp } from './sdk-helpers';

/** The client assertions a fetch carried to the token endpoint, decoded. */
function assertionsSeen(inner: typeof fetch = fetch): { fetch: typeof fetch; assertions: string[] } {
  const assertions: string[] = [];
  return {
    assertions,
    fetch: (input, init) => {
      if (typeof init?.body === 'string') {
        const assertion = new URLSearchParams(init.body).get('client_assertion');
        if (assertion) assertions.push(assertion);
      }
      return inner(input, init);
    },
  };
}

/**
 * `private_key_jwt` through the SDK (CONTRACT §9): an agent whose only credential is a registered public key
 * gets, caches, renews and refreshes tokens, introspects and revokes, with no secret anywhere.
 */
describe('AgentAuthClient with private_key_jwt against a real server', () => {
  let t: TestApp & { base: string };
  let root: Caller;
  beforeAll(async () => {
    t = await listeningApp();
    root = await aTree(t);
  });
  afterAll(async () => {
    await t.close();
  });

  async function aSecretlessAgent(alg: 'ES256' | 'EdDSA' | 'RS256' = 'ES256') {
    const agent = await anAgent(t, root, { allowed_scopes: ['agents:read'] });
    const pair = aKeyPair(alg);
    const credential = await aPublicKeyCredential(t, root, agent, pair.publicJwk);
    return { agent, pair, credential };
  }

  it('gets a token, caches it, renews it before expiry and refreshes it: a fresh assertion every time', async () => {
    const { agent, pair, credential } = await aSecretlessAgent('ES256');
    const clock = new FakeClock(Date.now());
    const counter = countingFetch();
    const seen = assertionsSeen(counter.fetch);
    const client = new AgentAuthClient({
      issuer: t.base,
      clientId: agent.id,
      privateKey: { key: pair.privateKey, kid: credential.kid },
      clock,
      renewBeforeExpirySeconds: 60,
      fetch: seen.fetch,
    });

    const tokens = await Promise.all([1, 2, 3].map(() => client.getToken({ scope: 'agents:read' })));
    expect(new Set(tokens).size).toBe(1);
    expect(counter.count('/auth/token')).toBe(1);
    const claims = claimsOf(tokens[0]);
    expect(claims).toMatchObject({ sub: agent.id, client_id: agent.id, scope: 'agents:read' });
    expect(await client.getToken({ scope: 'agents:read' })).toBe(tokens[0]);

    clock.advance((claims.exp - claims.iat) * 1000 - 60_000);
    const renewed = await client.getToken({ scope: 'agents:read' });
    expect(renewed).not.toBe(tokens[0]);
    expect(counter.count('/auth/token')).toBe(2);

    const withRefresh = await client.clientCredentials({ scope: 'agents:read offline_access' });
    const refreshed = await client.refresh(withRefresh.refreshToken!, { scope: 'agents:read' });
    expect(claimsOf(refreshed.accessToken)).toMatchObject({ sub: agent.id, scope: 'agents:read' });

    // Every request carried its own assertion: iss = sub = the agent, aud = exactly the issuer, short-lived.
    expect(seen.assertions).toHaveLength(4);
    const decoded = seen.assertions.map((a) => decodeJwt(a));
    expect(new Set(decoded.map((c) => c.jti)).size).toBe(4);
    for (const [i, c] of decoded.entries()) {
      expect(c).toMatchObject({ iss: agent.id, sub: agent.id, aud: t.base });
      expect(c.exp! - c.iat!).toBe(60);
      expect(decodeProtectedHeader(seen.assertions[i])).toMatchObject({ alg: 'ES256', kid: credential.kid });
    }
  });

  it('works with an Ed25519 JWK and without kid, and at the revocation endpoint', async () => {
    const { agent, pair } = await aSecretlessAgent('EdDSA');
    const client = new AgentAuthClient({
      issuer: t.base,
      clientAuthentication: privateKeyJwt({ clientId: agent.id, key: pair.privateJwk as unknown as JWK }),
    });
    const token = await client.getToken();
    expect(claimsOf(token).sub).toBe(agent.id);
    await client.revoke(token);
    const introspection = await new AgentAuthClient({
      issuer: t.base,
      clientId: root.agent.id,
      clientSecret: root.apiKey,
    }).introspect(token);
    expect(introspection).toEqual({ active: false });
  });

  it('a key that is not the registered one is invalid_client', async () => {
    const { agent } = await aSecretlessAgent('ES256');
    const client = new AgentAuthClient({
      issuer: t.base,
      clientId: agent.id,
      privateKey: { key: aKeyPair('ES256').privateKey },
    });
    const error = (await client.getToken().catch((e: unknown) => e)) as OAuthError;
    expect(error).toBeInstanceOf(OAuthError);
    expect(error.error).toBe('invalid_client');
  });

  it('refuses a public JWK, an unknown key type, and mixing a secret with a private key', () => {
    const pair = aKeyPair('ES256');
    expect(() => privateKeyJwt({ clientId: root.agent.id, key: pair.publicJwk as never })).toThrow(
      /private key/,
    );
    expect(() =>
      privateKeyJwt({ clientId: root.agent.id, key: createSecretKey(Buffer.from('not-a-key-pair')) }),
    ).toThrow(/unsupported key/);
    expect(
      () =>
        new AgentAuthClient({
          issuer: t.base,
          clientId: root.agent.id,
          clientSecret: root.apiKey,
          privateKey: { key: pair.privateKey },
        }),
    ).toThrow(/not both/);
  });
});
