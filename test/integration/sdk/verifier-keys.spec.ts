import { exportJWK, generateKeyPair, type KeyLike, SignJWT } from 'jose';
import { createVerifier, requireAgentAuth, TokenVerificationError } from '@agentauth/sdk';
import { listen } from './sdk-helpers';

const ISSUER = 'https://issuer.example.test';
const AUDIENCE = 'https://api.example.test';

interface Key {
  kid: string;
  privateKey: KeyLike;
  jwk: Record<string, unknown>;
}

async function aKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

function sign(key: Key, claims: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: 'agent', scope: 'a', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'at+jwt' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('agent')
    .setJti(`jti-${Math.random()}`)
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(key.privateKey);
}

/**
 * Key handling of createVerifier against a JWKS endpoint the test controls: the key set is cached, a token
 * signed by a key published later (rotation) makes it refetch, and the cooldown stops unknown kids from
 * turning into one fetch each.
 */
describe('createVerifier key handling', () => {
  let published: Key[] = [];
  let fetches = 0;
  let jwks: { base: string; close(): Promise<void> };
  beforeAll(async () => {
    jwks = await listen((_req, res) => {
      fetches++;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: published.map((k) => k.jwk) }));
    });
  });
  afterAll(() => jwks.close());
  beforeEach(() => {
    fetches = 0;
  });

  it('caches the key set and picks up a rotated key without restart', async () => {
    const [first, second] = await Promise.all([aKey('k1'), aKey('k2')]);
    published = [first];
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: `${jwks.base}/jwks`,
      jwksCooldownSeconds: 0,
    });
    await expect(verifier.verify(await sign(first))).resolves.toMatchObject({ subject: 'agent' });
    await expect(verifier.verify(await sign(first))).resolves.toMatchObject({ subject: 'agent' });
    expect(fetches).toBe(1);

    published = [second, first];
    await expect(verifier.verify(await sign(second))).resolves.toMatchObject({ subject: 'agent' });
    expect(fetches).toBe(2);
    await expect(verifier.verify(await sign(first))).resolves.toMatchObject({ subject: 'agent' });
    expect(fetches).toBe(2);
  });

  it('refuses a token of an unpublished key, and does not refetch within the cooldown', async () => {
    const [known, stranger] = await Promise.all([aKey('known'), aKey('stranger')]);
    published = [known];
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: `${jwks.base}/jwks`,
      jwksCooldownSeconds: 60,
    });
    await verifier.verify(await sign(known));
    for (let i = 0; i < 3; i++) {
      await expect(verifier.verify(await sign(stranger))).rejects.toMatchObject({ code: 'invalid_token' });
    }
    expect(fetches).toBe(1);
  });

  it('refuses a DPoP-bound token presented as a bearer token, or with no request to check a proof against', async () => {
    const key = await aKey('bound');
    published = [key];
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: `${jwks.base}/jwks` });
    const error = await verifier
      .verify(await sign(key, { cnf: { jkt: 'thumbprint' } }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenVerificationError);
    expect(error).toMatchObject({ code: 'invalid_token', status: 401, scheme: 'DPoP' });
    const asBearer = await verifier
      .verify(await sign(key, { cnf: { jkt: 'thumbprint' } }), {
        request: { scheme: 'Bearer', method: 'GET', url: `${AUDIENCE}/x` },
      })
      .catch((e: unknown) => e);
    expect(asBearer).toMatchObject({ code: 'invalid_token', message: expect.stringMatching(/DPoP scheme/) });
    const malformedCnf = await verifier
      .verify(await sign(key, { cnf: { x5t: 'other' } }), {
        request: { scheme: 'DPoP', method: 'GET', url: `${AUDIENCE}/x`, proof: 'p' },
      })
      .catch((e: unknown) => e);
    expect(malformedCnf).toMatchObject({ code: 'invalid_token', message: expect.stringMatching(/cnf/) });
    const unboundAsDpop = await verifier
      .verify(await sign(key), {
        request: { scheme: 'DPoP', method: 'GET', url: `${AUDIENCE}/x`, proof: 'p' },
      })
      .catch((e: unknown) => e);
    expect(unboundAsDpop).toMatchObject({ code: 'invalid_token', message: 'token is not DPoP-bound' });
  });

  it('fails closed when the key set cannot be fetched: the middleware answers 503, not 200 or 401', async () => {
    const key = await aKey('k');
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: 'http://127.0.0.1:1/jwks',
    });
    const token = await sign(key);
    await expect(verifier.verify(token)).rejects.not.toBeInstanceOf(TokenVerificationError);
    const middleware = requireAgentAuth(verifier);
    const status = await new Promise<number>((resolve) => {
      const res = { statusCode: 0, setHeader: () => undefined, end: () => resolve(res.statusCode) };
      middleware({ headers: { authorization: `Bearer ${token}` } }, res, () => resolve(200));
    });
    expect(status).toBe(503);
  });
});
