import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import request from 'supertest';
import type { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import type Redis from 'ioredis';
import { Test } from '@nestjs/testing';
import {
  ActionableStartupError,
  APP_CONFIG,
  decrypt,
  DecryptionError,
  describeStartupFailure,
  loadConfig,
  readEnvironment,
  REDIS,
} from '@agentauth/core';
import { ApiModule } from '../../../apps/api/src/api.module';
import { InvalidTokenError, type InvalidTokenReason, signingKeyEncryptionKey } from '@agentauth/keys';
import { REVOCATION_KEYS } from '@agentauth/revocation';
import { createTestApp, type TestApp } from '../../support/app';
import { logCapture } from '../../support/log-capture';
import { recordRedisCommands } from '../../support/raw-redis';
import { signRs256 } from '../../../libs/keys/src/compact-jws';
import { activePrivateKey, baseClaims, keyRows, resetSigningKeys, services } from './keys-helpers';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('signing keys, JWKS and token signing/verification', () => {
  let t: TestApp;
  let s: ReturnType<typeof services>;

  beforeAll(async () => {
    await resetSigningKeys();
    t = await createTestApp();
    s = services(t);
  });
  afterAll(async () => {
    await t.close();
    await resetSigningKeys();
  });
  afterEach(() => {
    s.clock.reset();
    jest.restoreAllMocks();
  });

  async function reasonOf(promise: Promise<unknown>): Promise<InvalidTokenReason> {
    try {
      await promise;
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidTokenError);
      const invalid = error as InvalidTokenError;
      // The client-facing part is the same whatever the reason.
      expect(invalid.status).toBe(401);
      expect(invalid.code).toBe('invalid_token');
      expect(invalid.message).toBe('The token is invalid or expired');
      return invalid.reason;
    }
    throw new Error('the token was accepted');
  }

  describe('GET /api/v1/auth/jwks', () => {
    it('is public, cacheable and lists only public RSA members', async () => {
      const res = await request(t.http).get('/api/v1/auth/jwks').expect(200);
      expect(res.headers['cache-control']).toBe(`public, max-age=${t.config.jwksMaxAgeSeconds}`);
      expect(res.body.keys).toHaveLength(1);
      for (const key of res.body.keys) {
        expect(Object.keys(key).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
        expect(key).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', e: 'AQAB' });
        // RSA-2048: 256-byte modulus.
        expect(Buffer.from(key.n, 'base64url')).toHaveLength(256);
      }
    });

    it('is described in the OpenAPI document', async () => {
      const doc = (await request(t.http).get('/docs-json').expect(200)).body;
      expect(doc.paths['/api/v1/auth/jwks'].get.tags).toEqual(['OAuth 2.0']);
    });

    it('serves the kid of the key the signer uses', async () => {
      const { kid } = await s.signer.signAccessToken(baseClaims());
      const res = await request(t.http).get('/api/v1/auth/jwks').expect(200);
      expect(res.body.keys.map((k: { kid: string }) => k.kid)).toEqual([kid]);
    });
  });

  describe('tokens verify with standard JWKS clients', () => {
    it('an access token verifies with jose createLocalJWKSet over the JWKS body', async () => {
      const signed = await s.signer.signAccessToken(baseClaims({ agent: { trust_level: 'root' } }));
      const jwks = (await request(t.http).get('/api/v1/auth/jwks').expect(200)).body;
      const { payload, protectedHeader } = await jwtVerify(signed.jwt, createLocalJWKSet(jwks), {
        issuer: t.config.publicBaseUrl,
        audience: 'agentauth',
        typ: 'at+jwt',
        algorithms: ['RS256'],
      });
      expect(protectedHeader).toEqual({ alg: 'RS256', kid: signed.kid, typ: 'at+jwt' });
      expect(payload).toMatchObject({
        iss: 'http://127.0.0.1:8000',
        sub: baseClaims().sub,
        client_id: baseClaims().client_id,
        scope: 'agents:read',
        agent: { trust_level: 'root' },
      });
      expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
      expect(payload.nbf).toBe(payload.iat);
      expect(payload.exp! - payload.iat!).toBe(t.config.accessTokenExpireMinutes * 60);
      expect(signed.claims).toEqual(payload);
    });

    it('an access token verifies with jose createRemoteJWKSet against the listening server', async () => {
      const server = await t.app.listen(0, '127.0.0.1');
      try {
        const { port } = server.address() as { port: number };
        const signed = await s.signer.signAccessToken(baseClaims());
        const jwks = createRemoteJWKSet(new URL(`http://127.0.0.1:${port}/api/v1/auth/jwks`));
        const { payload } = await jwtVerify(signed.jwt, jwks, {
          issuer: t.config.publicBaseUrl,
          typ: 'at+jwt',
          algorithms: ['RS256'],
        });
        expect(payload.jti).toBe(signed.claims.jti);
      } finally {
        // Stop listening; the app itself is closed in afterAll.
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    it('honours a caller jti and a shorter exp, refuses a longer exp and signer-owned claims', async () => {
      const now = s.clock.nowSeconds();
      const signed = await s.signer.signAccessToken(baseClaims({ jti: 'my-jti', exp: now + 60 }));
      expect(signed.claims).toMatchObject({ jti: 'my-jti', exp: now + 60 });
      await expect(
        s.signer.signAccessToken(baseClaims({ exp: now + t.config.accessTokenExpireMinutes * 60 + 5 })),
      ).rejects.toThrow(/exp must be/);
      await expect(s.signer.signAccessToken(baseClaims({ iss: 'http://evil' }))).rejects.toThrow(/"iss"/);
      await expect(s.signer.signAccessToken(baseClaims({ iat: now - 100 }))).rejects.toThrow(/"iat"/);
    });
  });

  describe('private keys at rest', () => {
    it('are stored encrypted and decrypt only with the SECRET_KEY they were made under', async () => {
      const rows = await keyRows();
      const active = rows.find((r) => r.state === 'active')!;
      const stored = active.private_key_encrypted!;
      expect(stored).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      expect(stored).not.toContain('BEGIN');
      expect(stored).not.toContain('PRIVATE');
      expect(JSON.stringify(active.public_jwk)).not.toMatch(/"(d|p|q|dp|dq|qi)"/);

      const pem = decrypt(
        stored,
        signingKeyEncryptionKey(t.config.secretKey),
        `signing-key:${active.kid}`,
      ).toString();
      expect(pem).toContain('-----BEGIN PRIVATE KEY-----');
      // The decrypted key is the private half of the published public key.
      const publicJwk = createPublicKey(pem).export({ format: 'jwk' });
      expect(publicJwk.n).toBe(active.public_jwk.n);

      expect(() =>
        decrypt(
          stored,
          signingKeyEncryptionKey('another-secret-key-0123456789-abcdef'),
          `signing-key:${active.kid}`,
        ),
      ).toThrow(DecryptionError);
      // Bound to its row: the ciphertext does not decrypt as another kid's key.
      expect(() =>
        decrypt(stored, signingKeyEncryptionKey(t.config.secretKey), 'signing-key:another-kid'),
      ).toThrow(DecryptionError);
      // Never logged.
      expect(logCapture.containing(pem.split('\n')[1])).toEqual([]);
      expect(logCapture.containing(stored)).toEqual([]);
    });
  });

  describe('a process started with another SECRET_KEY', () => {
    it('refuses to start (it cannot decrypt the active key), says how to fix it, without key material', async () => {
      const config = loadConfig({
        ...readEnvironment(),
        SECRET_KEY: 'a-different-secret-key-0123456789-abcdefgh',
      });
      const moduleRef = await Test.createTestingModule({ imports: [ApiModule] })
        .overrideProvider(APP_CONFIG)
        .useValue(config)
        .compile();
      const app = moduleRef.createNestApplication({ bodyParser: false, bufferLogs: true });
      let failure: unknown;
      try {
        failure = await app.init().then(
          () => undefined,
          (error: unknown) => error,
        );
      } finally {
        await app.close();
      }
      const kid = (await keyRows()).find((r) => r.state === 'active')!.kid;
      // What the process's fatal line says (writeFatalStartupError): the problem and its fix, no stack.
      expect(failure).toBeInstanceOf(ActionableStartupError);
      expect(describeStartupFailure(failure, {})).toEqual({
        error: `cannot decrypt signing key ${kid}: SECRET_KEY is not the one the signing keys were encrypted with`,
        fix: 'restore the previous SECRET_KEY (the database holds keys encrypted with it)',
      });
    });
  });

  describe('TokenVerifier', () => {
    it('accepts a genuine access token and returns payload, header and kid', async () => {
      const signed = await s.signer.signAccessToken(baseClaims());
      const verified = await s.verifier.verify(signed.jwt, { typ: 'at+jwt', audience: 'agentauth' });
      expect(verified.kid).toBe(signed.kid);
      expect(verified.header).toEqual({ alg: 'RS256', kid: signed.kid, typ: 'at+jwt' });
      expect(verified.payload).toEqual(signed.claims);
    });

    it('accepts audience lists and typ "application/at+jwt" (RFC 9068 §2.1)', async () => {
      const signed = await s.signer.signAccessToken(baseClaims({ aud: ['https://rs.example', 'agentauth'] }));
      await expect(
        s.verifier.verify(signed.jwt, { typ: 'at+jwt', audience: ['other', 'https://rs.example'] }),
      ).resolves.toBeDefined();
      const { kid, privateKey } = await activePrivateKey(t);
      const now = s.clock.nowSeconds();
      const jwt = await new SignJWT({ ...baseClaims(), jti: 'x', iat: now, nbf: now, exp: now + 60 })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'application/at+jwt' })
        .setIssuer(t.config.publicBaseUrl)
        .sign(privateKey);
      await expect(s.verifier.verify(jwt, { typ: 'at+jwt' })).resolves.toBeDefined();
    });

    it('refuses alg "none"', async () => {
      const signed = await s.signer.signAccessToken(baseClaims());
      const [, payload] = signed.jwt.split('.');
      const unsigned = `${b64({ alg: 'none', kid: signed.kid, typ: 'at+jwt' })}.${payload}.`;
      expect(await reasonOf(s.verifier.verify(unsigned, { typ: 'at+jwt' }))).toBe('alg_not_allowed');
    });

    it('refuses HS256 "signed" with the public key as the HMAC secret', async () => {
      const signed = await s.signer.signAccessToken(baseClaims());
      const jwks = (await request(t.http).get('/api/v1/auth/jwks').expect(200)).body;
      const jwk = jwks.keys.find((k: { kid: string }) => k.kid === signed.kid);
      const publicPem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      for (const secret of [Buffer.from(publicPem), Buffer.from(JSON.stringify(jwk))]) {
        const forged = await new SignJWT(signed.claims)
          .setProtectedHeader({ alg: 'HS256', kid: signed.kid, typ: 'at+jwt' })
          .sign(secret);
        expect(await reasonOf(s.verifier.verify(forged, { typ: 'at+jwt' }))).toBe('alg_not_allowed');
      }
    });

    it('refuses other asymmetric algorithms even with the right key (RS512, PS256)', async () => {
      const { kid, privateKey } = await activePrivateKey(t);
      const now = s.clock.nowSeconds();
      for (const alg of ['RS512', 'PS256']) {
        const jwt = await new SignJWT({ ...baseClaims(), jti: 'x', iat: now, nbf: now, exp: now + 60 })
          .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
          .setIssuer(t.config.publicBaseUrl)
          .sign(privateKey);
        expect(await reasonOf(s.verifier.verify(jwt, { typ: 'at+jwt' }))).toBe('alg_not_allowed');
      }
    });

    it('refuses an unknown kid after ONE rate-limited ring reload', async () => {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const now = s.clock.nowSeconds();
      const forge = (kid: string) =>
        new SignJWT({ ...baseClaims(), jti: 'x', iat: now, nbf: now, exp: now + 60 })
          .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
          .setIssuer(t.config.publicBaseUrl)
          .sign(privateKey);
      const refresh = jest.spyOn(s.keys, 'refresh');
      expect(await reasonOf(s.verifier.verify(await forge('attacker-kid-1'), { typ: 'at+jwt' }))).toBe(
        'unknown_kid',
      );
      expect(await reasonOf(s.verifier.verify(await forge('attacker-kid-2'), { typ: 'at+jwt' }))).toBe(
        'unknown_kid',
      );
      expect(await reasonOf(s.verifier.verify(await forge('attacker-kid-3'), { typ: 'at+jwt' }))).toBe(
        'unknown_kid',
      );
      expect(refresh).toHaveBeenCalledTimes(1);
    });

    it('refuses a token signed by another key under a known kid', async () => {
      const { kid } = await activePrivateKey(t);
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const now = s.clock.nowSeconds();
      const jwt = await new SignJWT({ ...baseClaims(), jti: 'x', iat: now, nbf: now, exp: now + 60 })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
        .setIssuer(t.config.publicBaseUrl)
        .sign(privateKey);
      expect(await reasonOf(s.verifier.verify(jwt, { typ: 'at+jwt' }))).toBe('bad_signature');
    });

    it('refuses a critical header extension and an unencoded payload, even genuinely signed', async () => {
      const { kid, privateKey } = await activePrivateKey(t);
      const now = s.clock.nowSeconds();
      const claims = { ...baseClaims(), jti: 'x', iat: now, nbf: now, exp: now + 60 };
      const signed = (extra: object) =>
        signRs256(
          { alg: 'RS256', kid, typ: 'at+jwt', ...extra },
          { ...claims, iss: t.config.publicBaseUrl },
          privateKey,
        );
      // The same token without the extension verifies: only the extension is refused.
      await expect(s.verifier.verify(signed({}), { typ: 'at+jwt' })).resolves.toMatchObject({ kid });
      const critical = signed({ crit: ['x-custom'], 'x-custom': 1 });
      expect(await reasonOf(s.verifier.verify(signed({ b64: true }), { typ: 'at+jwt' }))).toBe('malformed');
      expect(await reasonOf(s.verifier.verify(critical, { typ: 'at+jwt' }))).toBe('malformed');
      const genuine = await s.signer.signAccessToken(baseClaims());
      const [, payload, signature] = genuine.jwt.split('.');
      for (const junk of ['=', '+', ' ', '\n']) {
        expect(
          await reasonOf(
            s.verifier.verify(`${genuine.jwt.split('.')[0]}.${payload}${junk}.${signature}`, {
              typ: 'at+jwt',
            }),
          ),
        ).toBe('malformed');
      }
      expect((await s.verifier.verify(genuine.jwt, { typ: 'at+jwt' })).payload.jti).toBe(genuine.claims.jti);
      expect(signature.length).toBeGreaterThan(300);
    });

    it('refuses a tampered payload (scope widened)', async () => {
      const signed = await s.signer.signAccessToken(baseClaims());
      const [header, , signature] = signed.jwt.split('.');
      const widened = b64({ ...signed.claims, scope: 'agents:read agents:write' });
      expect(await reasonOf(s.verifier.verify(`${header}.${widened}.${signature}`, { typ: 'at+jwt' }))).toBe(
        'bad_signature',
      );
    });

    it('refuses a tampered header (typ swapped to delegation+jwt)', async () => {
      const signed = await s.signer.signAccessToken(baseClaims());
      const [, payload, signature] = signed.jwt.split('.');
      const header = b64({ alg: 'RS256', kid: signed.kid, typ: 'delegation+jwt' });
      expect(
        await reasonOf(s.verifier.verify(`${header}.${payload}.${signature}`, { typ: 'delegation+jwt' })),
      ).toBe('bad_signature');
    });

    it('refuses a wrong issuer (signed with the real key)', async () => {
      const { kid, privateKey } = await activePrivateKey(t);
      const now = s.clock.nowSeconds();
      const jwt = await new SignJWT({ ...baseClaims(), jti: 'x', iat: now, nbf: now, exp: now + 60 })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
        .setIssuer('http://127.0.0.1:8000/')
        .sign(privateKey);
      expect(await reasonOf(s.verifier.verify(jwt, { typ: 'at+jwt' }))).toBe('wrong_issuer');
    });

    it('refuses a wrong typ both ways, and a missing typ', async () => {
      const access = await s.signer.signAccessToken(baseClaims());
      const delegation = await s.signer.signDelegationToken(
        { sub: baseClaims().sub, delegation_id: 'd-1' },
        new Date(s.clock.nowMs() + 3600_000),
      );
      expect(decodeProtectedHeader(delegation.jwt).typ).toBe('delegation+jwt');
      await expect(s.verifier.verify(delegation.jwt, { typ: 'delegation+jwt' })).resolves.toBeDefined();
      expect(await reasonOf(s.verifier.verify(access.jwt, { typ: 'delegation+jwt' }))).toBe('typ_mismatch');
      expect(await reasonOf(s.verifier.verify(delegation.jwt, { typ: 'at+jwt' }))).toBe('typ_mismatch');
      const { kid, privateKey } = await activePrivateKey(t);
      const now = s.clock.nowSeconds();
      const untyped = await new SignJWT({ ...baseClaims(), jti: 'x', iat: now, nbf: now, exp: now + 60 })
        .setProtectedHeader({ alg: 'RS256', kid })
        .setIssuer(t.config.publicBaseUrl)
        .sign(privateKey);
      expect(await reasonOf(s.verifier.verify(untyped, { typ: 'at+jwt' }))).toBe('typ_mismatch');
    });

    it('refuses a wrong audience when one is required', async () => {
      const signed = await s.signer.signAccessToken(baseClaims({ aud: 'https://rs.example' }));
      expect(await reasonOf(s.verifier.verify(signed.jwt, { typ: 'at+jwt', audience: 'agentauth' }))).toBe(
        'wrong_audience',
      );
    });

    it('accepts a token within 30 s past exp (skew) and refuses it after', async () => {
      const signed = await s.signer.signAccessToken(baseClaims());
      const lifetimeMs = t.config.accessTokenExpireMinutes * 60_000;
      s.clock.advance(lifetimeMs + 20_000);
      await expect(s.verifier.verify(signed.jwt, { typ: 'at+jwt' })).resolves.toBeDefined();
      s.clock.advance(15_000);
      expect(await reasonOf(s.verifier.verify(signed.jwt, { typ: 'at+jwt' }))).toBe('expired');
    });

    it('refuses nbf and iat in the future (beyond the skew)', async () => {
      const { kid, privateKey } = await activePrivateKey(t);
      const now = s.clock.nowSeconds();
      const sign = (claims: Record<string, number>) =>
        new SignJWT({ ...baseClaims(), jti: 'x', ...claims })
          .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
          .setIssuer(t.config.publicBaseUrl)
          .sign(privateKey);
      const early = await sign({ iat: now, nbf: now + 120, exp: now + 600 });
      expect(await reasonOf(s.verifier.verify(early, { typ: 'at+jwt' }))).toBe('not_yet_valid');
      const future = await sign({ iat: now + 120, nbf: now, exp: now + 600 });
      expect(await reasonOf(s.verifier.verify(future, { typ: 'at+jwt' }))).toBe('not_yet_valid');
      const slightlyEarly = await sign({ iat: now + 10, nbf: now + 10, exp: now + 600 });
      await expect(s.verifier.verify(slightlyEarly, { typ: 'at+jwt' })).resolves.toBeDefined();
    });

    it('refuses tokens missing a required claim, and garbage', async () => {
      const { kid, privateKey } = await activePrivateKey(t);
      const now = s.clock.nowSeconds();
      const noJti = await new SignJWT({ ...baseClaims(), iat: now, nbf: now, exp: now + 60 })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
        .setIssuer(t.config.publicBaseUrl)
        .sign(privateKey);
      expect(await reasonOf(s.verifier.verify(noJti, { typ: 'at+jwt' }))).toBe('missing_claim');
      const noExp = await new SignJWT({ ...baseClaims(), jti: 'x', iat: now, nbf: now })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
        .setIssuer(t.config.publicBaseUrl)
        .sign(privateKey);
      expect(await reasonOf(s.verifier.verify(noExp, { typ: 'at+jwt' }))).toBe('missing_claim');
      const noKid = await new SignJWT({ ...baseClaims(), jti: 'x', iat: now, nbf: now, exp: now + 60 })
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' })
        .setIssuer(t.config.publicBaseUrl)
        .sign(privateKey);
      expect(await reasonOf(s.verifier.verify(noKid, { typ: 'at+jwt' }))).toBe('missing_kid');
      for (const garbage of ['', 'abc', 'a.b.c', 'x'.repeat(9000), `${b64({ alg: 'RS256' })}.e30`]) {
        expect(await reasonOf(s.verifier.verify(garbage, { typ: 'at+jwt' }))).toBe('malformed');
      }
    });
  });

  describe('hot paths', () => {
    it('signing and verifying access tokens do no database or Redis I/O', async () => {
      const dataSource = t.app.get<DataSource>(getDataSourceToken());
      const redis = t.app.get<Redis>(REDIS);
      const query = jest.spyOn(dataSource, 'query');
      const runner = jest.spyOn(dataSource, 'createQueryRunner');
      const command = recordRedisCommands(redis);
      for (let i = 0; i < 20; i++) {
        const signed = await s.signer.signAccessToken(baseClaims());
        await s.verifier.verify(signed.jwt, { typ: 'at+jwt', audience: 'agentauth' });
      }
      expect(query).not.toHaveBeenCalled();
      expect(runner).not.toHaveBeenCalled();
      // The revocation probe (every 5 s, EXISTS on its sentinel) shares the client; nothing else may appear.
      const calls = command
        .calls()
        .filter((cmd) => !(cmd.name === 'exists' && String(cmd.args[0]).endsWith(REVOCATION_KEYS.loaded)));
      expect(calls).toEqual([]);
      command.restore();
      // Control: the spies do see I/O (a delegation token records its expiry on the key).
      await s.signer.signDelegationToken({ sub: baseClaims().sub }, new Date(s.clock.nowMs() + 60_000));
      expect(query).toHaveBeenCalled();
    });
  });
});
