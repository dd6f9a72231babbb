import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { InvalidJwkError, keyAlgOfJwsAlg, parsePublicJwk } from '@agentauth/credentials';

const jwkOf = (key: { export(o: { format: 'jwk' }): unknown }) => key.export({ format: 'jwk' }) as JWK;

describe('parsePublicJwk (CONTRACT §9)', () => {
  it('accepts RSA 2048, P-256 and Ed25519 public keys; kid defaults to the RFC 7638 thumbprint', async () => {
    const keys = [
      [generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, 'RSA', 'RS256'],
      [generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'EC', 'ES256'],
      [generateKeyPairSync('ed25519').publicKey, 'OKP', 'EdDSA'],
    ] as const;
    for (const [key, kty, alg] of keys) {
      const jwk = jwkOf(key);
      const parsed = await parsePublicJwk(jwk);
      const thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
      expect(parsed).toMatchObject({ kty, alg, kid: thumbprint, thumbprint });
      expect(parsed.jwk).toEqual({ ...jwk, kid: thumbprint, alg, use: 'sig' });
    }
  });

  it('keeps a given kid and an alg the key type signs with', async () => {
    const jwk = jwkOf(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey);
    expect(await parsePublicJwk({ ...jwk, kid: 'k-1', alg: 'PS256' })).toMatchObject({
      kid: 'k-1',
      alg: 'PS256',
    });
  });

  it('drops members it does not know from the stored JWK', async () => {
    const jwk = jwkOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const parsed = await parsePublicJwk({ ...jwk, x5u: 'https://evil.example/cert', ext: true });
    expect(Object.keys(parsed.jwk).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  });

  it.each([
    [
      'a private EC key',
      () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
    ],
    ['an oct key', () => ({ kty: 'oct', k: 'AAAA' })],
    [
      'RSA 1024',
      () => generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }),
    ],
    ['P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' })],
    ['Ed448', () => generateKeyPairSync('ed448').publicKey.export({ format: 'jwk' })],
    [
      'an empty kid',
      () => ({ ...generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }), kid: '' }),
    ],
    ['a non-object', () => 'not a jwk'],
    ['an array', () => []],
  ])('refuses %s', async (_what, make) => {
    await expect(parsePublicJwk(make())).rejects.toBeInstanceOf(InvalidJwkError);
  });

  it('maps JWS algs to key algs: Ed25519 is EdDSA; none and HMACs are refused', () => {
    expect(keyAlgOfJwsAlg('Ed25519')).toBe('EdDSA');
    expect(keyAlgOfJwsAlg('ES256')).toBe('ES256');
    for (const alg of ['none', 'HS256', 'RS512', 'ES384', undefined, 42])
      expect(keyAlgOfJwsAlg(alg)).toBeNull();
  });
});
