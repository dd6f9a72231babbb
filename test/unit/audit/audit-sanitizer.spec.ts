import fc from 'fast-check';
import { canonicalJson } from '../../../libs/audit/src/audit-chain';
import {
  cleanText,
  InvalidAuditEventError,
  isSensitiveKey,
  prepareAuditEvent,
  REDACTED,
  sanitizeDetails,
} from '../../../libs/audit/src/audit-sanitizer';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLWJ5dGVz';
const API_KEY = 'aa_k3y9prefix_8Jq2vX0n3sQ7dF5gH1kL4mN6pR9tW2yZ';

describe('isSensitiveKey', () => {
  it.each([
    'secret',
    'client_secret',
    'clientSecret',
    'token',
    'access_token',
    'refreshToken',
    'delegation_token',
    'api_key',
    'apiKey',
    'API-KEY',
    'x-api-key',
    'APIKEY',
    'password',
    'newPassword',
    'passwd',
    'hash',
    'key_hash',
    'passwordHash',
    'hashed',
    'Authorization',
    'bearer',
    'private_key',
    'privateKey',
    'cookie',
    'TOKENS',
  ])('drops %s', (key) => expect(isSensitiveKey(key)).toBe(true));

  it.each([
    'token_id',
    'tokenId',
    'refresh_token_family_id',
    'credential_ids',
    'token_type',
    'token_type_hint',
    'tokens_count',
    'token_expires_at',
    'grace_period_seconds',
    'scopes',
    'reason',
    'prefix',
    'error',
    'agent_id',
  ])('keeps %s', (key) => expect(isSensitiveKey(key)).toBe(false));

  it('answers the same for a key seen before and for keys met after many others (its memo is bounded)', () => {
    for (let i = 0; i < 1500; i++) expect(isSensitiveKey(`field_${i}`)).toBe(false);
    for (const round of [1, 2]) {
      expect([round, isSensitiveKey('clientSecret')]).toEqual([round, true]);
      expect([round, isSensitiveKey('refresh-token-late')]).toEqual([round, true]);
      expect([round, isSensitiveKey('token_id')]).toEqual([round, false]);
    }
  });
});

describe('sanitizeDetails', () => {
  it('drops every key named like a secret, at any depth, and reports where (never the value)', () => {
    const dropped: string[] = [];
    const out = sanitizeDetails(
      {
        reason: 'rotation',
        client_secret: 's3cr3t-value',
        nested: { apiKey: 'k', list: [{ password: 'p', ok: 1 }], Authorization: 'Basic abc' },
        token_id: '5b1c9c2e-2a8e-4d4a-9f55-0a6b2c1d3e4f',
      },
      (path) => dropped.push(path),
    );
    expect(out).toEqual({
      reason: 'rotation',
      nested: { list: [{ ok: 1 }] },
      token_id: '5b1c9c2e-2a8e-4d4a-9f55-0a6b2c1d3e4f',
    });
    expect(dropped).toEqual([
      'client_secret',
      'nested.apiKey',
      'nested.list[0].password',
      'nested.Authorization',
    ]);
    expect(JSON.stringify(out)).not.toMatch(/s3cr3t|Basic abc/);
  });

  it('keeps numbers, booleans and null under such names: never a secret', () => {
    expect(sanitizeDetails({ tokens: 3, token_revoked: true, secret: null, token: { jti: 'x' } })).toEqual({
      tokens: 3,
      token_revoked: true,
      secret: null,
    });
  });

  it('redacts strings that look like a JWT or an AgentAuth API key wherever they are', () => {
    expect(
      sanitizeDetails({ note: `Bearer ${JWT}`, id: API_KEY, list: ['ok', JWT], error: 'invalid_client' }),
    ).toEqual({ note: REDACTED, id: REDACTED, list: ['ok', REDACTED], error: 'invalid_client' });
  });

  it('returns plain JSON that PostgreSQL stores and gives back unchanged', () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const out = sanitizeDetails({
      nul: 'a\u0000b',
      lone: 'x\ud800y',
      pair: '😀',
      big: 12n,
      when: new Date('2026-01-02T03:04:05.006Z'),
      bad: new Date('nope'),
      inf: Number.POSITIVE_INFINITY,
      negZero: -0,
      undef: undefined,
      fn: () => 1,
      circular,
      deep: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } },
      long: 'z'.repeat(5000),
    });
    expect(out).toMatchObject({
      nul: 'ab',
      lone: 'x\ufffdy',
      pair: '😀',
      big: '12',
      when: '2026-01-02T03:04:05.006Z',
      bad: null,
      inf: null,
      negZero: 0,
      circular: { a: 1, self: '[circular]' },
    });
    expect(out).not.toHaveProperty('undef');
    expect(out).not.toHaveProperty('fn');
    expect(JSON.stringify(out.deep)).toContain('[truncated]');
    expect((out.long as string).length).toBeLessThanOrEqual(2048);
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });

  it('wraps a non-object into {value}', () => {
    expect(sanitizeDetails('text')).toEqual({ value: 'text' });
    expect(sanitizeDetails(undefined)).toEqual({});
  });

  it('property: no sensitive key with a structured value survives, and the output round-trips through JSON', () => {
    const key = fc.oneof(
      fc.constantFrom('token', 'apiKey', 'password', 'note', 'token_id', 'hash', 'n'),
      fc.string(),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(key, tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 6 }), (details) => {
        const out = sanitizeDetails(details);
        const walk = (v: unknown): void => {
          if (Array.isArray(v)) return v.forEach(walk);
          if (v && typeof v === 'object') {
            for (const [k, child] of Object.entries(v)) {
              if (isSensitiveKey(k)) expect(child === null || typeof child !== 'object').toBe(true);
              if (isSensitiveKey(k)) expect(typeof child).not.toBe('string');
              walk(child);
            }
          }
        };
        walk(out);
        const text = canonicalJson(out);
        expect(text).not.toContain('\\u0000');
        expect(canonicalJson(JSON.parse(text))).toBe(text);
      }),
    );
  });
});

describe('cleanText', () => {
  it('never leaves a lone surrogate, even when cutting a pair', () => {
    const out = cleanText(`${'a'.repeat(9)}😀`, 10);
    expect(out).toBe(`${'a'.repeat(9)}…`);
    expect(cleanText(`${'a'.repeat(8)}😀b`, 10)).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});

describe('prepareAuditEvent', () => {
  const at = new Date('2026-01-02T03:04:05.006Z');

  it('normalizes ids and times to their stored form', () => {
    const e = prepareAuditEvent(
      {
        eventType: 'agent.created',
        outcome: 'success',
        actorAgentId: 'AAAAAAAA-1111-4111-8111-111111111111',
        targetId: 'x\u0000y',
        details: { secret: 'no' },
      },
      'id-1',
      at,
    );
    expect(e).toEqual({
      id: 'id-1',
      occurredAt: '2026-01-02T03:04:05.006Z',
      eventType: 'agent.created',
      outcome: 'success',
      actorAgentId: 'aaaaaaaa-1111-4111-8111-111111111111',
      onBehalfOf: null,
      targetType: null,
      targetId: 'xy',
      rootAgentId: null,
      ip: null,
      requestId: null,
      details: {},
    });
  });

  it('moves a value that is not a uuid (an unknown client_id) into details instead of failing the batch', () => {
    const e = prepareAuditEvent(
      {
        eventType: 'client_auth.failed',
        outcome: 'failure',
        actorAgentId: 'not-a-uuid',
        rootAgentId: API_KEY,
      },
      'id-2',
      at,
    );
    expect(e.actorAgentId).toBeNull();
    expect(e.rootAgentId).toBeNull();
    expect(e.details).toEqual({ invalid_actor_agent_id: 'not-a-uuid', invalid_root_agent_id: REDACTED });
  });

  it.each(['Agent.Created', 'created', 'agent.', 'agent created', `a.${'b'.repeat(100)}`, ''])(
    'refuses the event type %p at once',
    (eventType) => {
      expect(() => prepareAuditEvent({ eventType, outcome: 'success' }, 'id', at)).toThrow(
        InvalidAuditEventError,
      );
    },
  );

  it('refuses an unknown outcome', () => {
    expect(() =>
      prepareAuditEvent({ eventType: 'agent.created', outcome: 'maybe' as 'success' }, 'id', at),
    ).toThrow(InvalidAuditEventError);
  });
});
