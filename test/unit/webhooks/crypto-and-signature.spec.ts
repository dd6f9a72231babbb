import { createHmac } from 'node:crypto';
import { decrypt, deriveKey, encrypt, newWebhookSecret, signatureHeader } from '@agentauth/webhooks';

describe('webhook secret encryption', () => {
  const key = deriveKey('a-long-enough-secret-key-for-the-test-000', 'purpose-a');

  it('round-trips in the versioned v1.<iv>.<ct>.<tag> base64url format with a fresh IV each time', () => {
    const a = encrypt(key, 'whsec_hello');
    const b = encrypt(key, 'whsec_hello');
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(a).not.toBe(b);
    expect(decrypt(key, a)).toBe('whsec_hello');
  });

  it('derives different keys per purpose and per secret key', () => {
    expect(deriveKey('k', 'purpose-a')).toHaveLength(32);
    expect(deriveKey('k', 'purpose-a').equals(deriveKey('k', 'purpose-b'))).toBe(false);
    expect(deriveKey('k', 'purpose-a').equals(deriveKey('k2', 'purpose-a'))).toBe(false);
    expect(() =>
      decrypt(deriveKey('a-long-enough-secret-key-for-the-test-000', 'purpose-b'), encrypt(key, 'x')),
    ).toThrow();
  });

  it('refuses tampered or malformed ciphertexts', () => {
    const sealed = encrypt(key, 'whsec_hello');
    const [v, iv, ct, tag] = sealed.split('.');
    const flipped = Buffer.from(ct, 'base64url');
    flipped[0] ^= 1;
    expect(() => decrypt(key, [v, iv, flipped.toString('base64url'), tag].join('.'))).toThrow();
    expect(() => decrypt(key, ['v2', iv, ct, tag].join('.'))).toThrow(/format/);
    expect(() => decrypt(key, [v, iv, ct].join('.'))).toThrow(/format/);
    expect(() => decrypt(key, [v, 'AAAA', ct, tag].join('.'))).toThrow(/malformed/);
  });
});

describe('webhook signatures', () => {
  it('makes whsec_ secrets of 32 random bytes', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret.slice(6), 'base64url')).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(secret);
  });

  it('signs "<timestamp>.<raw body>" with HMAC-SHA256 keyed by the whole secret string', () => {
    const body = '{"id":"e1","type":"credential.revoked"}';
    const expected = createHmac('sha256', 'whsec_test').update(`1700000000.${body}`).digest('hex');
    expect(signatureHeader('whsec_test', 1700000000, body)).toBe(`v1=${expected}`);
    expect(signatureHeader('whsec_test', 1700000001, body)).not.toBe(`v1=${expected}`);
    expect(signatureHeader('whsec_tesT', 1700000000, body)).not.toBe(`v1=${expected}`);
  });
});
