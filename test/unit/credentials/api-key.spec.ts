import {
  formatApiKey,
  generatePrefix,
  generateSecret,
  maskApiKey,
  parseApiKey,
} from '../../../libs/credentials/src/api-key';
import { credentialEndsAt, credentialState } from '../../../libs/credentials/src/credential-rules';

describe('API key format', () => {
  it('is aa_<16 chars of [a-z0-9]>_<43 chars base64url = 256 bits>', () => {
    const prefix = generatePrefix();
    const secret = generateSecret();
    expect(prefix).toMatch(/^[a-z0-9]{16}$/);
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    const key = formatApiKey(prefix, secret);
    expect(key).toMatch(/^aa_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    expect(parseApiKey(key)).toEqual({ prefix, secret });
  });

  it('never repeats a prefix or a secret in 2000 draws', () => {
    const prefixes = new Set(Array.from({ length: 2000 }, generatePrefix));
    const secrets = new Set(Array.from({ length: 2000 }, generateSecret));
    expect(prefixes.size).toBe(2000);
    expect(secrets.size).toBe(2000);
  });

  it.each([
    '',
    'aa_',
    'aa_short_secret',
    `aa_${'A'.repeat(16)}_${'a'.repeat(43)}`,
    `bb_${'a'.repeat(16)}_${'a'.repeat(43)}`,
    `aa_${'a'.repeat(16)}_${'a'.repeat(44)}`,
    `aa_${'a'.repeat(16)}_${'a'.repeat(42)}=`,
    `aa_${'a'.repeat(16)}_${'a'.repeat(43)}\n`,
    "aa_'; DROP TABLE credentials;--",
  ])('does not parse %j', (raw) => {
    expect(parseApiKey(raw)).toBeNull();
  });

  it('masks to the prefix', () => {
    expect(maskApiKey('abcdefghijklmnop')).toBe('aa_abcdefghijklmnop_****');
  });
});

describe('credentialState', () => {
  const t = new Date('2026-06-01T00:00:00.000Z');
  const plus = (ms: number) => new Date(t.getTime() + ms);
  const base = { status: 'active' as const, expiresAt: null, graceUntil: null };

  it('is usable until revoked, expired or past its grace', () => {
    expect(credentialState(base, t)).toBe('usable');
    expect(credentialState({ ...base, status: 'revoked' }, t)).toBe('revoked');
    expect(credentialState({ ...base, expiresAt: plus(1) }, t)).toBe('usable');
    expect(credentialState({ ...base, expiresAt: t }, t)).toBe('expired');
    expect(credentialState({ ...base, graceUntil: plus(1) }, t)).toBe('usable');
    expect(credentialState({ ...base, graceUntil: t }, t)).toBe('rotated_out');
  });

  it('is expired once marked expired, whatever the clock says (a clock set back revives nothing)', () => {
    const marked = { ...base, status: 'expired' as const, expiresAt: t };
    expect(credentialState(marked, plus(1))).toBe('expired');
    expect(credentialState(marked, plus(-60_000))).toBe('expired');
  });

  it('ends at the earlier of expiry and grace', () => {
    expect(credentialEndsAt({ expiresAt: plus(10), graceUntil: plus(5) })).toEqual(plus(5));
    expect(credentialEndsAt({ expiresAt: null, graceUntil: null })).toBeNull();
  });
});
