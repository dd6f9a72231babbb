import { decrypt, DecryptionError, decryptToString, deriveKey, encrypt } from '@agentauth/core';

const SECRET = 'unit-test-secret-key-0123456789-abcdefghij';

describe('deriveKey (HKDF-SHA256)', () => {
  it('is deterministic for the same secret and purpose', () => {
    expect(deriveKey(SECRET, 'signing-keys/v1')).toEqual(deriveKey(SECRET, 'signing-keys/v1'));
  });

  it('gives independent keys per purpose and per secret', () => {
    const a = deriveKey(SECRET, 'signing-keys/v1');
    expect(a.equals(deriveKey(SECRET, 'webhook-secrets/v1'))).toBe(false);
    expect(a.equals(deriveKey(`${SECRET}x`, 'signing-keys/v1'))).toBe(false);
  });

  it('returns the requested length and never the secret itself', () => {
    expect(deriveKey(SECRET, 'p', 32)).toHaveLength(32);
    expect(deriveKey(SECRET, 'p', 64)).toHaveLength(64);
    expect(deriveKey(SECRET, 'p', 64).includes(Buffer.from(SECRET.slice(0, 16)))).toBe(false);
  });

  it('matches RFC 5869 HKDF-SHA256 with the documented salt and info', async () => {
    // Independent implementation through WebCrypto.
    const base = await crypto.subtle.importKey('raw', Buffer.from(SECRET), 'HKDF', false, ['deriveBits']);
    const bits = await crypto.subtle.deriveBits(
      {
        name: 'HKDF',
        hash: 'SHA-256',
        salt: Buffer.from('agentauth/hkdf-salt/v1'),
        info: Buffer.from('agentauth:signing-keys/v1'),
      },
      base,
      256,
    );
    expect(deriveKey(SECRET, 'signing-keys/v1').equals(Buffer.from(bits))).toBe(true);
  });

  it('refuses an empty secret, an empty purpose and silly lengths', () => {
    expect(() => deriveKey('', 'p')).toThrow(/secret is empty/);
    expect(() => deriveKey(SECRET, '')).toThrow(/purpose/);
    expect(() => deriveKey(SECRET, 'p', 8)).toThrow(/length/);
  });
});

describe('encrypt / decrypt (AES-256-GCM)', () => {
  const key = deriveKey(SECRET, 'unit/v1');

  it('round-trips text and bytes in the versioned format', () => {
    const payload = encrypt('-----BEGIN PRIVATE KEY-----\nabc\n', key);
    expect(payload).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(payload).not.toContain('BEGIN');
    expect(decryptToString(payload, key)).toBe('-----BEGIN PRIVATE KEY-----\nabc\n');
    const bytes = Buffer.from([0, 1, 2, 255]);
    expect(decrypt(encrypt(bytes, key), key).equals(bytes)).toBe(true);
    expect(decryptToString(encrypt('', key), key)).toBe('');
  });

  it('uses a fresh IV every time', () => {
    const a = encrypt('same', key);
    const b = encrypt('same', key);
    expect(a).not.toBe(b);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
  });

  it('fails with the wrong key', () => {
    const payload = encrypt('secret', key);
    expect(() => decrypt(payload, deriveKey('another-secret-0123456789', 'unit/v1'))).toThrow(
      DecryptionError,
    );
    expect(() => decrypt(payload, deriveKey(SECRET, 'unit/v2'))).toThrow(DecryptionError);
  });

  const flipFirstChar = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);

  it.each([
    ['iv', 1],
    ['ciphertext', 2],
    ['tag', 3],
  ])('detects tampering with the %s', (_name, index) => {
    const parts = encrypt('secret payload', key).split('.');
    parts[index] = flipFirstChar(parts[index]);
    expect(() => decrypt(parts.join('.'), key)).toThrow(DecryptionError);
  });

  it('detects truncated or extended ciphertext', () => {
    const parts = encrypt('secret payload', key).split('.');
    const ct = Buffer.from(parts[2], 'base64url');
    const shorter = [...parts];
    shorter[2] = ct.subarray(0, ct.length - 1).toString('base64url');
    expect(() => decrypt(shorter.join('.'), key)).toThrow(DecryptionError);
    const longer = [...parts];
    longer[2] = Buffer.concat([ct, Buffer.from([0])]).toString('base64url');
    expect(() => decrypt(longer.join('.'), key)).toThrow(DecryptionError);
  });

  it('binds associated data: a ciphertext moved to another row does not decrypt', () => {
    const payload = encrypt('secret', key, 'signing-key:kid-1');
    expect(decryptToString(payload, key, 'signing-key:kid-1')).toBe('secret');
    expect(() => decrypt(payload, key, 'signing-key:kid-2')).toThrow(DecryptionError);
    expect(() => decrypt(payload, key)).toThrow(DecryptionError);
  });

  it.each(['', 'v1', 'v2.a.b.c', 'v1.a.b', 'v1.a.b.c.d', 'v1.!!.b.c', 'v1.AAAA.AAAA.AAAA'])(
    'rejects the malformed payload %p with the same error',
    (payload) => {
      expect(() => decrypt(payload, key)).toThrow(DecryptionError);
      expect(() => decrypt(payload, key)).toThrow('decryption failed');
    },
  );

  it('refuses keys that are not 32 bytes', () => {
    expect(() => encrypt('x', Buffer.alloc(16))).toThrow(/32-byte key/);
    expect(() => decrypt('v1.a.b.c', Buffer.alloc(31))).toThrow(/32-byte key/);
  });
});
