import fc from 'fast-check';
import { markerRevokes, REVOCATION_KINDS } from '@agentauth/revocation';
import { normalizeMarkers } from '../../../libs/revocation/src/revocation-marker';

describe('markerRevokes', () => {
  const t = Date.UTC(2026, 0, 2, 3, 4, 5, 500);
  const sec = (ms: number) => Math.floor(ms / 1000);

  it('agent markers kill tokens issued at or before the revocation, not after', () => {
    expect(markerRevokes('agent', t, sec(t) - 60)).toBe(true);
    // same second as the revocation: counted as before (fail closed)
    expect(markerRevokes('agent', t, sec(t))).toBe(true);
    expect(markerRevokes('agent', t, sec(t) + 1)).toBe(false);
  });

  it.each(REVOCATION_KINDS.filter((k) => k !== 'agent'))(
    '%s markers are final: they kill tokens issued before and after',
    (kind) => {
      expect(markerRevokes(kind, t, sec(t) - 60)).toBe(true);
      expect(markerRevokes(kind, t, sec(t) + 3600)).toBe(true);
    },
  );

  it('law: an agent marker revokes exactly the tokens with iat*1000 <= revoked_at', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4e12 }), fc.integer({ min: 0, max: 4e9 }), (revokedAtMs, iat) => {
        expect(markerRevokes('agent', revokedAtMs, iat)).toBe(iat * 1000 <= revokedAtMs);
      }),
    );
  });
});

describe('normalizeMarkers', () => {
  const now = new Date('2026-01-02T00:00:00.000Z');

  it('defaults at to now and expiry to never', () => {
    expect(normalizeMarkers([{ kind: 'agent', id: 'a' }], now)).toEqual([
      { kind: 'agent', id: 'a', revokedAtMs: now.getTime(), expiresAtMs: null },
    ]);
  });

  it('merges duplicates like the database: latest at, permanent expiry wins, else latest', () => {
    const later = new Date(now.getTime() + 1000);
    const exp1 = new Date(now.getTime() + 60_000);
    const exp2 = new Date(now.getTime() + 120_000);
    expect(
      normalizeMarkers(
        [
          { kind: 'jti', id: 'x', at: later, expiresAt: exp1 },
          { kind: 'jti', id: 'x', at: now, expiresAt: exp2 },
          { kind: 'agent', id: 'a', expiresAt: exp1 },
          { kind: 'agent', id: 'a', expiresAt: null },
        ],
        now,
      ),
    ).toEqual([
      { kind: 'agent', id: 'a', revokedAtMs: now.getTime(), expiresAtMs: null },
      { kind: 'jti', id: 'x', revokedAtMs: later.getTime(), expiresAtMs: exp2.getTime() },
    ]);
  });

  it('sorts by kind and id (stable lock order)', () => {
    const out = normalizeMarkers(
      [
        { kind: 'jti', id: 'b' },
        { kind: 'agent', id: 'z' },
        { kind: 'jti', id: 'a' },
      ],
      now,
    );
    expect(out.map((m) => `${m.kind}:${m.id}`)).toEqual(['agent:z', 'jti:a', 'jti:b']);
  });

  it('refuses unknown kinds, empty or oversized ids and invalid dates', () => {
    expect(() => normalizeMarkers([{ kind: 'token' as 'jti', id: 'x' }], now)).toThrow(
      /unknown revocation kind/,
    );
    expect(() => normalizeMarkers([{ kind: 'jti', id: '' }], now)).toThrow(/needs an id/);
    expect(() => normalizeMarkers([{ kind: 'jti', id: 'x'.repeat(201) }], now)).toThrow(/needs an id/);
    expect(() => normalizeMarkers([{ kind: 'jti', id: 'x', at: new Date(NaN) }], now)).toThrow(/time/);
    expect(() => normalizeMarkers([{ kind: 'jti', id: 'x', expiresAt: new Date(NaN) }], now)).toThrow(
      /expiry/,
    );
  });
});
