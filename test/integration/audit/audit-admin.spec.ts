import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { AuditService } from '@agentauth/audit';
import { Clock } from '@agentauth/core';
import { aKey, anAgent, API, aTree } from '../../factories/agents';
import { createTestApp, type TestApp } from '../../support/app';
import { FailingStatsModule, ProbeStatsModule } from '../../support/audit-probe.controller';
import { createScratchDatabase, type ScratchDatabase } from '../../support/scratch-database';
import { auditEventsOf } from '../../factories/db';

const HOUR = 3600 * 1000;
const ITEM_KEYS = [
  'actor_agent_id',
  'details',
  'event_type',
  'hash',
  'id',
  'ip',
  'occurred_at',
  'on_behalf_of',
  'outcome',
  'prev_hash',
  'request_id',
  'root_agent_id',
  'seq',
  'target_id',
  'target_type',
];

/** The operators' endpoints: X-Admin-Key only, filters, cursor pagination, and /stats. */
describe('admin endpoints', () => {
  let t: TestApp;
  let audit: AuditService;
  let clock: Clock;
  let adminKey: string;

  beforeAll(async () => {
    t = await createTestApp();
    audit = t.app.get(AuditService);
    clock = t.app.get(Clock);
    adminKey = t.config.adminApiKey;
  });
  afterAll(async () => {
    clock.reset();
    await t.close();
  });

  const admin = (path: string) => request(t.http).get(`/api/v1${path}`).set('X-Admin-Key', adminKey);

  describe('authentication', () => {
    it.each(['/audit/events', '/stats'])(
      '%s answers 401 without, or with a wrong, X-Admin-Key',
      async (path) => {
        for (const req of [
          request(t.http).get(`/api/v1${path}`),
          request(t.http).get(`/api/v1${path}`).set('X-Admin-Key', `${adminKey}x`),
          request(t.http).get(`/api/v1${path}`).set('X-Admin-Key', adminKey.slice(0, -1)),
          request(t.http).get(`/api/v1${path}`).set('X-Admin-Key', ''),
        ]) {
          const res = await req.expect(401);
          expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(res.body.type).toBe('urn:agentauth:problem:admin_key_required');
        }
      },
    );

    it.each(['/audit/events', '/stats'])('%s is never opened by a Bearer token alone', async (path) => {
      const jwtLike = 'eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJyb290In0.c2lnbmF0dXJl';
      await request(t.http).get(`/api/v1${path}`).set('Authorization', `Bearer ${jwtLike}`).expect(401);
      // …nor is the admin key accepted as a Bearer credential.
      await request(t.http).get(`/api/v1${path}`).set('Authorization', `Bearer ${adminKey}`).expect(401);
    });

    it('records exactly one client_auth.failed event per refused admin key, without key material', async () => {
      const wrongKey = `${adminKey.slice(0, -4)}WXYZ`;
      const cases = [
        { res: await request(t.http).get('/api/v1/stats').set('X-Admin-Key', wrongKey), cause: 'mismatch' },
        { res: await request(t.http).get('/api/v1/audit/events'), cause: 'missing' },
      ];
      for (const { res, cause } of cases) {
        expect(res.status).toBe(401);
        const events = await auditEventsOf(res.headers['x-request-id']);
        expect(events).toEqual([
          expect.objectContaining({
            event_type: 'client_auth.failed',
            outcome: 'failure',
            actor_agent_id: null,
            ip: '127.0.0.1',
            request_id: res.headers['x-request-id'],
            details: { reason: 'admin_key', cause, route: expect.stringMatching(/^GET \/api\/v1\//) },
          }),
        ]);
        const text = JSON.stringify(events);
        expect(text).not.toContain(wrongKey);
        expect(text).not.toContain(adminKey.slice(0, 16));
      }
    });

    it('opens with the admin key', async () => {
      await admin('/audit/events?limit=1').expect(200);
      await admin('/stats').expect(200);
    });
  });

  describe('GET /audit/events', () => {
    const root = randomUUID();
    const otherRoot = randomUUID();
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const run = randomUUID();
    let t0: Date;
    let t1: Date;
    let t2: Date;

    beforeAll(async () => {
      const rec = (n: number, e: Partial<Parameters<AuditService['record']>[0]>) =>
        audit.record({
          eventType: 'probe.other',
          outcome: 'success',
          requestId: `${run}-${n}`,
          ip: '198.51.100.4',
          details: { n },
          ...e,
        });
      t0 = clock.now();
      await rec(1, {
        eventType: 'agent.created',
        actorAgentId: a,
        rootAgentId: root,
        targetType: 'agent',
        targetId: b,
      });
      await rec(2, {
        eventType: 'credential.rotated',
        actorAgentId: b,
        onBehalfOf: a,
        rootAgentId: root,
        targetId: randomUUID(),
      });
      clock.advance(HOUR);
      t1 = clock.now();
      await rec(3, {
        eventType: 'credential.revoked',
        outcome: 'denied',
        actorAgentId: c,
        rootAgentId: root,
      });
      await rec(4, {
        eventType: 'client_auth.failed',
        outcome: 'failure',
        rootAgentId: root,
        targetType: 'agent',
        targetId: c,
      });
      clock.advance(HOUR);
      t2 = clock.now();
      await rec(5, { eventType: 'token.issued', actorAgentId: a, rootAgentId: root });
      await rec(6, { eventType: 'token.issued', actorAgentId: c, rootAgentId: otherRoot });
    });

    const ns = (body: { items: { details: { n: number } }[] }) => body.items.map((i) => i.details.n);

    it('lists events newest first with every documented field', async () => {
      const res = await admin(`/audit/events?root_agent_id=${root}`).expect(200);
      expect(ns(res.body)).toEqual([5, 4, 3, 2, 1]);
      expect(res.body.next_cursor).toBeNull();
      const item = res.body.items[4];
      expect(Object.keys(item).sort()).toEqual(ITEM_KEYS);
      expect(item).toMatchObject({
        event_type: 'agent.created',
        outcome: 'success',
        actor_agent_id: a,
        on_behalf_of: null,
        target_type: 'agent',
        target_id: b,
        root_agent_id: root,
        ip: '198.51.100.4',
        request_id: `${run}-1`,
        details: { n: 1 },
      });
      expect(item.occurred_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(item.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(typeof item.seq).toBe('number');
      const seqs = res.body.items.map((i: { seq: number }) => i.seq);
      expect([...seqs].sort((x, y) => y - x)).toEqual(seqs);
    });

    it.each([
      ['agent_id = the actor, on_behalf_of or target', () => `agent_id=${a}`, [5, 2, 1]],
      ['agent_id (actor or target)', () => `agent_id=${c}`, [6, 4, 3]],
      ['agent_id (target or actor)', () => `agent_id=${b}`, [2, 1]],
      ['agent_id upper-case', () => `agent_id=${b.toUpperCase()}`, [2, 1]],
      ['root_agent_id', () => `root_agent_id=${otherRoot}`, [6]],
      ['outcome', () => `root_agent_id=${root}&outcome=denied`, [3]],
      ['event_type', () => `agent_id=${a}&event_type=token.issued`, [5]],
      ['request_id', () => `request_id=${run}-4`, [4]],
    ])('filters by %s', async (_label, query, expected) => {
      const res = await admin(`/audit/events?${query()}`).expect(200);
      expect(ns(res.body)).toEqual(expected);
    });

    it('filters by since (inclusive) and until (exclusive)', async () => {
      const q = (s: string) => admin(`/audit/events?root_agent_id=${root}&${s}`).expect(200);
      expect(ns((await q(`since=${t1.toISOString()}`)).body)).toEqual([5, 4, 3]);
      expect(ns((await q(`until=${t1.toISOString()}`)).body)).toEqual([2, 1]);
      expect(ns((await q(`since=${t1.toISOString()}&until=${t2.toISOString()}`)).body)).toEqual([4, 3]);
      expect(ns((await q(`since=${t0.toISOString()}&until=${t0.toISOString()}`)).body)).toEqual([]);
    });

    it('pages with an opaque cursor: no duplicates, no skips, even while events are written', async () => {
      const pageRoot = randomUUID();
      for (let n = 1; n <= 7; n++)
        await audit.record({
          eventType: 'probe.paged',
          outcome: 'success',
          rootAgentId: pageRoot,
          details: { n },
        });
      const seen: number[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      let rounds = 0;
      do {
        const res: request.Response = await admin(
          `/audit/events?root_agent_id=${pageRoot}&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        ).expect(200);
        sizes.push(res.body.items.length);
        seen.push(...ns(res.body));
        cursor = res.body.next_cursor;
        if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
        // A newer event arrives between pages: it belongs before page 1, never inside the walk.
        await audit.record({
          eventType: 'probe.paged',
          outcome: 'success',
          rootAgentId: pageRoot,
          details: { n: 100 + rounds },
        });
        rounds++;
      } while (cursor && rounds < 10);
      expect(sizes).toEqual([3, 3, 1]);
      expect(seen).toEqual([7, 6, 5, 4, 3, 2, 1]);
      const fresh = await admin(`/audit/events?root_agent_id=${pageRoot}&limit=200`).expect(200);
      expect(ns(fresh.body)).toEqual([102, 101, 100, 7, 6, 5, 4, 3, 2, 1]);
    });

    it('defaults to 50 items per page', async () => {
      const many = randomUUID();
      await Promise.all(
        Array.from({ length: 55 }, (_, n) =>
          audit.record({ eventType: 'probe.many', outcome: 'success', rootAgentId: many, details: { n } }),
        ),
      );
      const res = await admin(`/audit/events?root_agent_id=${many}`).expect(200);
      expect(res.body.items).toHaveLength(50);
      expect(res.body.next_cursor).not.toBeNull();
      const rest = await admin(`/audit/events?root_agent_id=${many}&cursor=${res.body.next_cursor}`).expect(
        200,
      );
      expect(rest.body.items).toHaveLength(5);
      expect(rest.body.next_cursor).toBeNull();
    });

    const cursorOf = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    it.each([
      'agent_id=not-a-uuid',
      'root_agent_id=123',
      'outcome=maybe',
      'outcome=success&outcome=denied',
      'event_type=Not%20A%20Type',
      'since=yesterday',
      'until=2026-13-01T00:00:00Z',
      `since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z`,
      'limit=0',
      'limit=201',
      'limit=abc',
      'limit=1.5',
      'cursor=%%%',
      'cursor=bm90IGpzb24',
      `cursor=${cursorOf({ seq: -1 })}`,
      `cursor=${cursorOf({ seq: '5' })}`,
      `cursor=${cursorOf([1])}`,
      'request_id=has%20spaces',
      'unknown_filter=1',
    ])('refuses %s with 400 problem+json', async (query) => {
      const res = await admin(`/audit/events?${query}`).expect(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.type).toBe('urn:agentauth:problem:validation_error');
      expect(res.body.errors.length).toBeGreaterThan(0);
    });
  });

  it('GET /stats answers 503 when a section cannot be counted (never a partial answer)', async () => {
    const broken = await createTestApp({}, { extraModules: [FailingStatsModule] });
    try {
      const res = await request(broken.http).get('/api/v1/stats').set('X-Admin-Key', adminKey).expect(503);
      expect(res.body.detail).toContain('broken');
    } finally {
      await broken.close();
    }
  });
});

/** /stats on a database of its own, so its counts are exact. */
describe('GET /stats', () => {
  let scratch: ScratchDatabase;
  let t: TestApp;

  beforeAll(async () => {
    scratch = await createScratchDatabase('audit_stats');
    t = await createTestApp({ DATABASE_URL: scratch.url }, { extraModules: [ProbeStatsModule] });
  });
  afterAll(async () => {
    await t?.close();
    await scratch?.drop();
  });

  const stats = async () =>
    (await request(t.http).get('/api/v1/stats').set('X-Admin-Key', t.config.adminApiKey).expect(200)).body;

  it('merges every registered section with the audit trail’s own counts', async () => {
    const audit = t.app.get(AuditService);
    const clock = t.app.get(Clock);
    // Other contexts' sections (policies, …) are there too: this test owns only the probe's.
    expect(await stats()).toMatchObject({
      generated_at: expect.stringMatching(/Z$/),
      probe: { total: 42, by_status: { ok: 42 } },
      delegations: { active: 0 },
      tokens: { issued_total: 0, issued_last_24h: 0 },
      refresh_families: { active: 0 },
      audit_events: { total: 0, last_24h: 0 },
    });
    for (let i = 0; i < 3; i++) await audit.record({ eventType: 'probe.counted', outcome: 'success' });
    expect((await stats()).audit_events).toEqual({ total: 3, last_24h: 3 });
    clock.advance(25 * HOUR);
    try {
      expect((await stats()).audit_events).toEqual({ total: 3, last_24h: 0 });
      await audit.record({ eventType: 'probe.counted', outcome: 'success' });
      expect((await stats()).audit_events).toEqual({ total: 4, last_24h: 1 });
    } finally {
      clock.reset();
    }
  });

  it('counts agents by status and trust level, and credentials by status', async () => {
    const clock = t.app.get(Clock);
    const inMinutes = (m: number) => new Date(clock.nowMs() + m * 60_000).toISOString();
    const counts = async () => {
      const body = await stats();
      return { agents: body.agents, credentials: body.credentials };
    };
    expect(await counts()).toEqual({
      agents: {
        total: 0,
        by_status: { active: 0, suspended: 0, deactivated: 0 },
        by_trust_level: { root: 0, delegated: 0, ephemeral: 0 },
      },
      credentials: { total: 0, by_status: { active: 0, rotated: 0, revoked: 0, expired: 0 } },
    });

    const root = await aTree(t); // a root agent and its bootstrap key
    const [doomed, sleeper] = [await anAgent(t, root), await anAgent(t, root)];
    const doomedChild = await anAgent(t, root, { parent_agent_id: doomed.id });
    await anAgent(t, root, { trust_level: 'ephemeral', expires_at: inMinutes(60) });
    const revokedKey = await aKey(t, root, doomed);
    await aKey(t, root, doomedChild);
    const rotatedKey = await aKey(t, root, sleeper);
    await aKey(t, root, root.agent, { expires_at: inMinutes(30) });
    expect(await counts()).toEqual({
      agents: {
        total: 5,
        by_status: { active: 5, suspended: 0, deactivated: 0 },
        by_trust_level: { root: 1, delegated: 3, ephemeral: 1 },
      },
      credentials: { total: 5, by_status: { active: 5, rotated: 0, revoked: 0, expired: 0 } },
    });

    const act = (req: request.Test, status: number) => req.set(root.auth).expect(status);
    await act(
      request(t.http)
        .post(`${API}/credentials/${rotatedKey.credentialId}/rotate`)
        .send({ grace_period_seconds: 60 }),
      200,
    );
    await act(request(t.http).delete(`${API}/credentials/${revokedKey.credentialId}`), 200);
    await act(request(t.http).patch(`${API}/agents/${sleeper.id}`).send({ status: 'suspended' }), 200);
    // Deactivation cascades: the child is deactivated too and its key revoked.
    await act(request(t.http).delete(`${API}/agents/${doomed.id}`), 200);
    const after = {
      agents: {
        total: 5,
        by_status: { active: 2, suspended: 1, deactivated: 2 },
        by_trust_level: { root: 1, delegated: 3, ephemeral: 1 },
      },
      credentials: { total: 6, by_status: { active: 3, rotated: 1, revoked: 2, expired: 0 } },
    };
    expect(await counts()).toEqual(after);

    // Past the root key's expires_at (and the rotated key's grace, which leaves it counted as rotated).
    clock.advance(31 * 60_000);
    try {
      expect(await counts()).toEqual({
        ...after,
        credentials: { total: 6, by_status: { active: 2, rotated: 1, revoked: 2, expired: 1 } },
      });
    } finally {
      clock.reset();
    }
  });
});
