import { managementResourceIdentifier } from '@agentauth/core';
import { createLocalJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from 'jose';
import request from 'supertest';
import { Clock } from '@agentauth/core';
import { SigningKeysService } from '@agentauth/keys';
import { createTestApp, type TestApp } from '../../support/app';
import { API, aTree, type Caller, requestToken } from '../../factories/agents';
import { keyRows, resetSigningKeys } from '../keys/keys-helpers';
import { claimsOf, guardStatus, isActive } from './auth-helpers';

async function jwks(t: TestApp): Promise<{ keys: (JWK & { kid: string })[] }> {
  return (await request(t.http).get(`${API}/auth/jwks`).expect(200)).body;
}

/** What a resource server with a fresh copy of JWKS concludes (at the token's own iat: key presence only). */
async function verifiesWithJwks(t: TestApp, token: string): Promise<boolean> {
  try {
    await jwtVerify(token, createLocalJWKSet(await jwks(t)), {
      issuer: t.config.publicBaseUrl,
      audience: managementResourceIdentifier(t.config),
      typ: 'at+jwt',
      algorithms: ['RS256'],
      currentDate: new Date(claimsOf(token).iat * 1000),
    });
    return true;
  } catch {
    return false;
  }
}

describe('signing key rotation, seen through the token endpoint', () => {
  let t: TestApp;
  let clock: Clock;
  let keys: SigningKeysService;
  let root: Caller;
  beforeAll(async () => {
    await resetSigningKeys();
    t = await createTestApp();
    clock = t.app.get(Clock);
    keys = t.app.get(SigningKeysService);
    root = await aTree(t);
  });
  afterAll(async () => {
    clock.reset();
    await t.close();
    await resetSigningKeys();
  });

  const mint = async () => (await requestToken(t, root).expect(200)).body.access_token as string;
  const kidOf = (token: string) => decodeProtectedHeader(token).kid as string;

  it('publishes before signing, keeps old tokens valid, retires the old key only after they all expired', async () => {
    const before = await mint();
    const oldKid = kidOf(before);
    expect((await jwks(t)).keys.map((k) => k.kid)).toEqual([oldKid]);

    // The new key is in JWKS at once, and signs nothing yet.
    const rotated = await keys.rotate();
    expect((await jwks(t)).keys.map((k) => k.kid)).toEqual([oldKid, rotated.kid]);
    const stillOld = await mint();
    expect(kidOf(stillOld)).toBe(oldKid);

    // It signs once its activation time (≥ one JWKS max-age later) has come.
    const waitMs = rotated.activatesAt.getTime() - clock.nowMs();
    expect(waitMs).toBeGreaterThanOrEqual(t.config.jwksMaxAgeSeconds * 1000);
    clock.advance(waitMs);
    const advanced = await keys.advance();
    expect(advanced.activated).toBe(rotated.kid);
    const after = await mint();
    expect(kidOf(after)).toBe(rotated.kid);

    // Tokens signed before the rotation still work: at the guard, at introspection, and for a JWKS client.
    const lastOldExp = claimsOf(stillOld).exp;
    for (const token of [before, stillOld]) {
      expect(await guardStatus(t, token)).toBe(200);
      expect(await isActive(t, root, token)).toBe(true);
      expect(await verifiesWithJwks(t, token)).toBe(true);
    }
    expect(await verifiesWithJwks(t, after)).toBe(true);

    // The old key stays published until every token it signed has expired…
    const old = (await keyRows()).find((row) => row.kid === oldKid)!;
    expect(old.state).toBe('retiring');
    expect(old.retire_after!.getTime()).toBeGreaterThan(lastOldExp * 1000);
    clock.advance(lastOldExp * 1000 - clock.nowMs());
    expect((await keys.advance()).retired).toEqual([]);
    expect((await jwks(t)).keys.map((k) => k.kid)).toContain(oldKid);
    expect(await guardStatus(t, stillOld)).toBe(401); // expired by now

    // …and leaves after retire_after.
    clock.advance(old.retire_after!.getTime() - clock.nowMs());
    expect((await keys.advance()).retired).toEqual([oldKid]);
    expect((await jwks(t)).keys.map((k) => k.kid)).toEqual([rotated.kid]);
    expect(await verifiesWithJwks(t, stillOld)).toBe(false);
    expect(await guardStatus(t, await mint())).toBe(200);
  });
});
