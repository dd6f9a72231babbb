import { generateKeyPairSync } from 'node:crypto';
import { KeyRing, type RingKey } from '../../../libs/keys/src/key-ring';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const LIFETIME = 15 * 60_000;
const NOW = 1_800_000_000_000;

function key(
  kid: string,
  state: RingKey['state'],
  activatesAtMs: number,
  retireAfterMs: number | null = null,
): RingKey {
  return {
    kid,
    state,
    publicJwk: { kty: 'RSA', kid, use: 'sig', alg: 'RS256', n: 'n', e: 'AQAB' },
    publicKey,
    privateKey: state === 'published' ? undefined : privateKey,
    activatesAtMs,
    retireAfterMs,
  };
}

describe('KeyRing', () => {
  it('signs with the active key once it is due', () => {
    const ring = new KeyRing();
    ring.replace([key('a', 'active', NOW - 1000)], NOW);
    expect(ring.signingKey(NOW, LIFETIME)?.kid).toBe('a');
  });

  it('never signs with a key before its activates_at (by this process clock): falls back to the previous', () => {
    const ring = new KeyRing();
    ring.replace(
      [key('new', 'active', NOW + 5000), key('old', 'retiring', NOW - 86400_000, NOW + LIFETIME + 60_000)],
      NOW,
    );
    expect(ring.signingKey(NOW, LIFETIME)?.kid).toBe('old');
    expect(ring.signingKey(NOW + 5000, LIFETIME)?.kid).toBe('new');
  });

  it('a retiring key signs only tokens that expire before it leaves JWKS', () => {
    const ring = new KeyRing();
    ring.replace(
      [key('new', 'active', NOW + 120_000), key('old', 'retiring', NOW - 1000, NOW + LIFETIME)],
      NOW,
    );
    expect(ring.signingKey(NOW, LIFETIME)?.kid).toBe('old');
    expect(ring.signingKey(NOW + 1, LIFETIME)).toBeUndefined();
  });

  it('published keys never sign and are not decrypted', () => {
    const ring = new KeyRing();
    ring.replace([key('p', 'published', NOW - 1000)], NOW);
    expect(ring.signingKey(NOW, LIFETIME)).toBeUndefined();
    expect(ring.verificationKey('p')).toBe(publicKey);
  });

  it('serves JWKS in the order active, published, retiring and verifies with all of them', () => {
    const ring = new KeyRing();
    ring.replace(
      [
        key('r', 'retiring', NOW - 2000, NOW + 1000),
        key('p', 'published', NOW + 1000),
        key('a', 'active', NOW - 1000),
      ],
      NOW,
    );
    expect(ring.jwks().map((k) => k.kid)).toEqual(['a', 'p', 'r']);
    for (const kid of ['a', 'p', 'r']) expect(ring.verificationKey(kid)).toBeDefined();
    expect(ring.verificationKey('x')).toBeUndefined();
  });

  it('knows when a transition is due', () => {
    const ring = new KeyRing();
    ring.replace([key('a', 'active', NOW - 1000), key('p', 'published', NOW + 1000)], NOW);
    expect(ring.hasDueTransition(NOW)).toBe(false);
    expect(ring.hasDueTransition(NOW + 1000)).toBe(true);
    ring.replace([key('a', 'active', NOW - 1000), key('r', 'retiring', NOW - 5000, NOW + 10)], NOW);
    expect(ring.hasDueTransition(NOW)).toBe(false);
    expect(ring.hasDueTransition(NOW + 10)).toBe(true);
  });
});
