import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import request from 'supertest';
import { CLOCK_SKEW_SECONDS, KEY_PROPAGATION_SECONDS, type SignedToken } from '@agentauth/keys';
import { createTestApp, type TestApp } from '../../support/app';
import { ownerQuery } from '../../support/owner-db';
import { baseClaims, keyRows, resetSigningKeys, services } from './keys-helpers';

async function jwksKids(t: TestApp): Promise<string[]> {
  const res = await request(t.http).get('/api/v1/auth/jwks').expect(200);
  return res.body.keys.map((k: { kid: string }) => k.kid);
}

async function verifiesViaJwks(t: TestApp, token: SignedToken): Promise<boolean> {
  const jwks = (await request(t.http).get('/api/v1/auth/jwks').expect(200)).body;
  try {
    await jwtVerify(token.jwt, createLocalJWKSet(jwks), {
      issuer: t.config.publicBaseUrl,
      typ: 'at+jwt',
      algorithms: ['RS256'],
      // the JWKS client's own clock is real time; only key presence matters here
      currentDate: new Date(token.claims.iat * 1000),
    });
    return true;
  } catch {
    return false;
  }
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('signing key rotation', () => {
  afterAll(async () => {
    await resetSigningKeys();
  });

  describe('one process', () => {
    let t: TestApp;
    let s: ReturnType<typeof services>;
    beforeAll(async () => {
      await resetSigningKeys();
      t = await createTestApp();
      s = services(t);
    });
    afterAll(async () => {
      await t.close();
    });

    it('publishes before signing, keeps old tokens verifiable, retires only after they all expired', async () => {
      const lifetimeMs = t.config.accessTokenExpireMinutes * 60_000;
      const before = await s.signer.signAccessToken(baseClaims());
      const oldKid = before.kid;
      expect(await jwksKids(t)).toEqual([oldKid]);

      // rotate(): the new key is in JWKS at once, but does not sign.
      const rotated = await s.keys.rotate();
      expect(rotated.state).toBe('published');
      expect(rotated.kid).not.toBe(oldKid);
      const delayMs = rotated.activatesAt.getTime() - s.clock.nowMs();
      expect(delayMs).toBeGreaterThanOrEqual(t.config.jwksMaxAgeSeconds * 1000);
      expect(delayMs).toBeLessThanOrEqual(
        (t.config.jwksMaxAgeSeconds + KEY_PROPAGATION_SECONDS) * 1000 + 1000,
      );
      expect(await jwksKids(t)).toEqual([oldKid, rotated.kid]);
      expect((await s.signer.signAccessToken(baseClaims())).kid).toBe(oldKid);
      // Rotating again while a key waits is idempotent.
      expect((await s.keys.rotate()).kid).toBe(rotated.kid);

      // advance() before activates_at changes nothing, even one second before.
      expect(await s.keys.advance()).toEqual({ activated: null, retiring: [], retired: [] });
      s.clock.advance(delayMs - 1000);
      expect(await s.keys.advance()).toEqual({ activated: null, retiring: [], retired: [] });
      const lastOld = await s.signer.signAccessToken(baseClaims());
      expect(lastOld.kid).toBe(oldKid);

      // Due: the new key activates, the old one retires.
      s.clock.advance(1500);
      expect(await s.keys.advance()).toEqual({ activated: rotated.kid, retiring: [oldKid], retired: [] });
      const after = await s.signer.signAccessToken(baseClaims());
      expect(after.kid).toBe(rotated.kid);
      expect(decodeProtectedHeader(after.jwt).kid).toBe(rotated.kid);
      expect(await jwksKids(t)).toEqual([rotated.kid, oldKid]);

      // Tokens signed before the rotation still verify (TokenVerifier and a JWKS client).
      await expect(s.verifier.verify(lastOld.jwt, { typ: 'at+jwt' })).resolves.toMatchObject({ kid: oldKid });
      expect(await verifiesViaJwks(t, before)).toBe(true);
      expect(await verifiesViaJwks(t, after)).toBe(true);

      // The old key stays until every token it signed expired (+ skew).
      const oldRow = (await keyRows()).find((r) => r.kid === oldKid)!;
      expect(oldRow.state).toBe('retiring');
      const retireAfterMs = oldRow.retire_after!.getTime();
      expect(retireAfterMs).toBeGreaterThanOrEqual(lastOld.claims.exp * 1000 + CLOCK_SKEW_SECONDS * 1000);
      expect(retireAfterMs).toBeGreaterThanOrEqual(s.clock.nowMs() + lifetimeMs);

      s.clock.advance(retireAfterMs - s.clock.nowMs() - 1000);
      expect(await s.keys.advance()).toEqual({ activated: null, retiring: [], retired: [] });
      expect(await jwksKids(t)).toEqual([rotated.kid, oldKid]);

      s.clock.advance(1500);
      expect(await s.keys.advance()).toEqual({ activated: null, retiring: [], retired: [oldKid] });
      expect(await jwksKids(t)).toEqual([rotated.kid]);
      const retiredRow = (await keyRows()).find((r) => r.kid === oldKid)!;
      expect(retiredRow.state).toBe('retired');
      // A retired key can never sign again: its private key is erased.
      expect(retiredRow.private_key_encrypted).toBeNull();
      // advance() is idempotent.
      expect(await s.keys.advance()).toEqual({ activated: null, retiring: [], retired: [] });
    });

    it('keeps a key in JWKS until the delegation tokens it signed expired', async () => {
      s.clock.reset();
      await resetSigningKeys();
      await s.keys.ensureActiveKey();
      const delegationExpiry = new Date(s.clock.nowMs() + 6 * 3600_000);
      const delegation = await s.signer.signDelegationToken(
        { sub: baseClaims().sub, delegation_id: 'dlg-1' },
        delegationExpiry,
      );
      const signingKid = delegation.kid;
      expect((await keyRows()).find((r) => r.kid === signingKid)!.max_delegation_exp!.getTime()).toBe(
        delegation.claims.exp * 1000,
      );

      const rotated = await s.keys.rotate();
      s.clock.advance(rotated.activatesAt.getTime() - s.clock.nowMs());
      expect((await s.keys.advance()).retiring).toEqual([signingKid]);
      const retireAfterMs = (await keyRows()).find((r) => r.kid === signingKid)!.retire_after!.getTime();
      expect(retireAfterMs).toBe(delegation.claims.exp * 1000 + CLOCK_SKEW_SECONDS * 1000);

      // Far beyond every access token's lifetime, the key still verifies the delegation token.
      s.clock.advance(retireAfterMs - s.clock.nowMs() - 1000);
      await s.keys.advance();
      expect(await jwksKids(t)).toContain(signingKid);
      await expect(s.verifier.verify(delegation.jwt, { typ: 'delegation+jwt' })).resolves.toBeDefined();
      s.clock.advance(1500);
      expect((await s.keys.advance()).retired).toEqual([signingKid]);
      expect(await jwksKids(t)).not.toContain(signingKid);
    });

    it('creates an active key at start-up when every key was retired', async () => {
      s.clock.reset();
      const previous = (await keyRows()).map((r) => r.kid);
      expect(previous.length).toBeGreaterThan(0);
      await ownerQuery(
        `UPDATE signing_keys SET state = 'retired', retire_after = now(), retired_at = now(), private_key_encrypted = NULL`,
      );
      const created = await s.keys.ensureActiveKey();
      expect(previous).not.toContain(created.kid);
      expect(created.created).toBe(true);
      expect(await s.keys.ensureActiveKey()).toEqual({ kid: created.kid, created: false });
      expect((await s.signer.signAccessToken(baseClaims())).kid).toBe(created.kid);
    });
  });

  describe('several processes', () => {
    it('two instances starting on an empty table create exactly one active key', async () => {
      await resetSigningKeys();
      const [a, b] = await Promise.all([createTestApp(), createTestApp()]);
      try {
        const rows = await keyRows();
        expect(rows).toHaveLength(1);
        expect(rows[0].state).toBe('active');
        const fromA = await services(a).signer.signAccessToken(baseClaims());
        const fromB = await services(b).signer.signAccessToken(baseClaims());
        expect(fromA.kid).toBe(rows[0].kid);
        expect(fromB.kid).toBe(rows[0].kid);
        // Each verifies the other's tokens.
        await expect(services(a).verifier.verify(fromB.jwt, { typ: 'at+jwt' })).resolves.toBeDefined();
        await expect(services(b).verifier.verify(fromA.jwt, { typ: 'at+jwt' })).resolves.toBeDefined();
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });

    it('a second instance picks up a rotation through pub/sub, without restart', async () => {
      await resetSigningKeys();
      const a = await createTestApp();
      const b = await createTestApp();
      try {
        const sa = services(a);
        const sb = services(b);
        const oldKid = (await sb.signer.signAccessToken(baseClaims())).kid;
        const refresh = jest.spyOn(sb.keys, 'refresh');

        const rotated = await sa.keys.rotate();
        // B serves the new key long before its 30 s periodic refresh could have run.
        await eventually(async () => (await jwksKids(b)).includes(rotated.kid), 5000);
        expect(refresh).toHaveBeenCalled();
        expect((await sb.signer.signAccessToken(baseClaims())).kid).toBe(oldKid);

        // A activates it (A's clock is past activates_at; B's is not yet).
        const wait = rotated.activatesAt.getTime() - sa.clock.nowMs() + 1000;
        sa.clock.advance(wait);
        expect((await sa.keys.advance()).activated).toBe(rotated.kid);
        await eventually(async () => (await jwksKids(b))[0] === rotated.kid, 5000);
        // B never signs with a key before its activates_at by B's clock: it keeps the previous key.
        expect((await sb.signer.signAccessToken(baseClaims())).kid).toBe(oldKid);
        sb.clock.advance(wait);
        const fromB = await sb.signer.signAccessToken(baseClaims());
        expect(fromB.kid).toBe(rotated.kid);
        await expect(sa.verifier.verify(fromB.jwt, { typ: 'at+jwt' })).resolves.toBeDefined();
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  });
});
