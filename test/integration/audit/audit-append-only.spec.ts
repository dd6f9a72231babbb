import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import request from 'supertest';
import { AuditService } from '@agentauth/audit';
import { prepareAuditEvent } from '../../../libs/audit/src/audit-sanitizer';
import { AuditRepository } from '../../../libs/audit/src/audit.repository';
import { auditVerify } from '../../../scripts/audit-verify';
import { API } from '../../factories/agents';
import { createTestApp, type TestApp } from '../../support/app';
import { appRoleClient } from '../../support/audit';
import { createScratchDatabase, type ScratchDatabase } from '../../support/scratch-database';

/**
 * Append-only at the database role level and tamper-evident. Runs on a scratch database of its own: the
 * chain is deliberately broken here, which must not leak into the worker's shared database.
 */
describe('audit_events is append-only and hash-chained', () => {
  let scratch: ScratchDatabase;
  let t: TestApp;
  let owner: Client;
  let app: Client;
  let audit: AuditService;

  beforeAll(async () => {
    scratch = await createScratchDatabase('audit_append_only');
    t = await createTestApp({ DATABASE_URL: scratch.url });
    audit = t.app.get(AuditService);
    owner = await scratch.owner();
    app = await appRoleClient(scratch.url);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        audit.record({
          eventType: 'agent.created',
          outcome: 'success',
          actorAgentId: randomUUID(),
          targetType: 'agent',
          targetId: randomUUID(),
          details: { n: i, note: 'ünïcödé 😀' },
        }),
      ),
    );
  });
  afterAll(async () => {
    await app?.end();
    await t?.close();
    await scratch?.drop();
  });

  const count = async () => Number((await owner.query('SELECT count(*) AS n FROM audit_events')).rows[0].n);

  it('lets the app role insert and read, and nothing else', async () => {
    const { rows } = await owner.query<{ privilege: string; granted: boolean }>(
      `SELECT p AS privilege, has_table_privilege('agentauth_app', 'audit_events', p) AS granted
       FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.privilege, r.granted]))).toEqual({
      SELECT: true,
      INSERT: true,
      UPDATE: false,
      DELETE: false,
      TRUNCATE: false,
      REFERENCES: false,
      TRIGGER: false,
    });
  });

  it.each([
    ['UPDATE', `UPDATE audit_events SET outcome = 'failure'`],
    ['UPDATE (no row matches)', `UPDATE audit_events SET outcome = 'failure' WHERE false`],
    ['DELETE', 'DELETE FROM audit_events'],
    ['TRUNCATE', 'TRUNCATE audit_events'],
  ])('refuses %s as the app role (no privilege)', async (_label, sql) => {
    const before = await count();
    await expect(app.query(sql)).rejects.toMatchObject({
      code: '42501',
      message: expect.stringMatching(/permission denied/),
    });
    expect(await count()).toBe(before);
  });

  it.each([
    ['UPDATE', `UPDATE audit_events SET outcome = 'failure'`],
    ['UPDATE (no row matches)', `UPDATE audit_events SET outcome = 'failure' WHERE false`],
    ['DELETE', 'DELETE FROM audit_events WHERE seq = 1'],
    ['TRUNCATE', 'TRUNCATE audit_events'],
    ['TRUNCATE … CASCADE', 'TRUNCATE audit_events CASCADE'],
  ])('refuses %s as the owner, a superuser, through the trigger', async (_label, sql) => {
    const { rows } = await owner.query<{ rolsuper: boolean }>(
      'SELECT rolsuper FROM pg_roles WHERE rolname = current_user',
    );
    expect(rows[0].rolsuper).toBe(true);
    const before = await count();
    await expect(owner.query(sql)).rejects.toMatchObject({
      code: '42501',
      message: expect.stringMatching(/audit_events is append-only: (UPDATE|DELETE|TRUNCATE) refused/),
    });
    expect(await count()).toBe(before);
  });

  it('keeps one linear chain: seq 1..n, each event linked to the previous one', async () => {
    const { rows } = await owner.query<{ seq: string; prev_hash: string; hash: string }>(
      'SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq',
    );
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
    expect(rows[0].prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < rows.length; i++) expect(rows[i].prev_hash).toBe(rows[i - 1].hash);
    await expect(audit.verifyChain()).resolves.toMatchObject({ valid: true, checked: rows.length });
  });

  it('writes nothing twice when a batch is retried after its commit (idempotent by event id)', async () => {
    const repository = t.app.get(AuditRepository);
    const events = [1, 2, 3].map((n) =>
      prepareAuditEvent(
        { eventType: 'credential.rotated', outcome: 'success', details: { n } },
        randomUUID(),
        new Date(),
      ),
    );
    const first = await repository.appendBatch(events);
    const before = await count();
    // The acknowledgement of the first attempt was "lost": the retry finds the events and writes nothing.
    const retried = await repository.appendBatch(events);
    expect(retried).toEqual(first);
    expect(await count()).toBe(before);
    // A batch mixing stored and new events writes only the new ones, after the current head.
    const fresh = prepareAuditEvent(
      { eventType: 'credential.rotated', outcome: 'success' },
      randomUUID(),
      new Date(),
    );
    const mixed = await repository.appendBatch([events[1], fresh]);
    expect(mixed[0]).toEqual(first[1]);
    expect(mixed[1].seq).toBeGreaterThan(Math.max(...first.map((e) => e.seq)));
    expect(await count()).toBe(before + 1);
    // An id repeated inside one batch is written once; both places answer its one stored row.
    const repeated = prepareAuditEvent(
      { eventType: 'credential.rotated', outcome: 'success' },
      randomUUID(),
      new Date(),
    );
    const [once, again] = await repository.appendBatch([repeated, repeated]);
    expect(again).toEqual(once);
    expect(once.seq).toBe(mixed[1].seq + 1);
    expect(await count()).toBe(before + 2);
    await expect(audit.verifyChain()).resolves.toMatchObject({ valid: true });
  });

  it('stores a batch byte for byte and in order, whatever characters its text carries', async () => {
    const repository = t.app.get(AuditRepository);
    const awkward = `"quoted" \\back\\slash {brace,comma} 'single' NULL \n\t\u2028 ünï 😀 $1 ]]>`;
    const events = ['NULL', awkward, '', 'plain'].map((text, n) =>
      prepareAuditEvent(
        {
          eventType: 'agent.updated',
          outcome: n % 2 ? 'failure' : 'success',
          actorAgentId: n === 0 ? null : randomUUID(),
          targetType: text,
          targetId: `${text}#id`,
          ip: n === 0 ? null : text,
          requestId: text,
          details: { text, n, nested: { list: [text, null, 1.5, true], empty: {} }, [text]: n },
        },
        randomUUID(),
        new Date(Date.UTC(2026, 11, 8, 1, 2, 3, n)),
      ),
    );
    const recorded = await repository.appendBatch(events);
    expect(recorded.map((r) => r.seq)).toEqual(recorded.map((_, i) => recorded[0].seq + i));
    const stored = await repository.chainPage(recorded[0].seq - 1, events.length);
    expect(stored).toEqual(recorded);
    expect(stored.map(({ seq: _s, prevHash: _p, hash: _h, ...content }) => content)).toEqual(events);
    await expect(audit.verifyChain()).resolves.toMatchObject({ valid: true });
  });

  it('stays one linear chain when several processes write at once (advisory lock)', async () => {
    // A second API instance with its own connection pool, on the same database.
    const other = await createTestApp({ DATABASE_URL: scratch.url });
    try {
      const writers = [audit, other.app.get(AuditService)];
      const before = await count();
      await Promise.all(
        Array.from({ length: 120 }, (_, i) =>
          writers[i % 2].record({ eventType: 'token.issued', outcome: 'success', details: { i } }),
        ),
      );
      expect(await count()).toBe(before + 120);
      await expect(audit.verifyChain(50)).resolves.toMatchObject({ valid: true, checked: before + 120 });
    } finally {
      await other.close();
    }
  });

  describe('tampering behind the trigger’s back', () => {
    let victim: { id: string; seq: string; details: string };

    beforeAll(async () => {
      const { rows } = await owner.query<{ id: string; seq: string; details: string }>(
        `SELECT id, seq, details::text AS details FROM audit_events WHERE seq = 7`,
      );
      victim = rows[0];
    });

    it('is detected by verifyChain and by make audit-verify, which name the altered event', async () => {
      await owner.query('ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only');
      try {
        await owner.query(`UPDATE audit_events SET details = details || '{"n": 999}' WHERE seq = 7`);
      } finally {
        await owner.query('ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only');
      }
      const result = await audit.verifyChain(4);
      expect(result).toMatchObject({
        valid: false,
        first_broken_seq: 7,
        first_broken_id: victim.id,
        reason: 'hash_mismatch',
        checked: 7,
        last_seq: 6,
      });
      const script = await auditVerify({ DATABASE_URL: scratch.url });
      expect(script.exitCode).toBe(2);
      const report = {
        verified: false,
        events_checked: 7,
        first_broken_event: { seq: 7, id: victim.id, reason: 'hash_mismatch' },
        last_verified_seq: 6,
        last_verified_hash: result.last_hash,
      };
      expect(script.result).toEqual(report);
      // The same walk over HTTP for the operator (X-Admin-Key), whole chain or a range.
      const verify = (query = '') =>
        request(t.http).get(`${API}/audit/verify${query}`).set('X-Admin-Key', t.config.adminApiKey);
      expect((await verify().expect(200)).body).toEqual(report);
      expect((await verify('?from_seq=2&to_seq=6').expect(200)).body).toEqual({
        verified: true,
        events_checked: 5,
        last_verified_seq: 6,
        last_verified_hash: result.last_hash,
      });
      expect((await verify('?from_seq=5').expect(200)).body).toMatchObject({
        verified: false,
        events_checked: 3,
        first_broken_event: { seq: 7 },
      });
      // The events after the altered one still link to its stored hash.
      expect((await verify('?from_seq=8').expect(200)).body).toMatchObject({ verified: true });
    });

    it('GET /audit/verify needs X-Admin-Key and refuses a bad range (400, never 500)', async () => {
      await request(t.http).get(`${API}/audit/verify`).expect(401);
      for (const query of ['?from_seq=0', '?to_seq=abc', '?from_seq=5&to_seq=4', '?from=1']) {
        const res = await request(t.http)
          .get(`${API}/audit/verify${query}`)
          .set('X-Admin-Key', t.config.adminApiKey)
          .expect(400);
        expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      }
      const beyond = await request(t.http)
        .get(`${API}/audit/verify?from_seq=1000000`)
        .set('X-Admin-Key', t.config.adminApiKey)
        .expect(200);
      expect(beyond.body).toMatchObject({ verified: true, events_checked: 0 });
    });

    it('is valid again once the original content is back (the hash covers content, not row history)', async () => {
      await owner.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
      try {
        await owner.query(`UPDATE audit_events SET details = $1::jsonb WHERE seq = 7`, [victim.details]);
      } finally {
        await owner.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
      }
      await expect(audit.verifyChain()).resolves.toMatchObject({ valid: true });
      await expect(auditVerify({ DATABASE_URL: scratch.url })).resolves.toMatchObject({
        exitCode: 0,
        result: { verified: true, events_checked: await count() },
      });
    });

    it('names the event after a deleted one', async () => {
      await owner.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
      try {
        await owner.query('DELETE FROM audit_events WHERE seq = 12');
      } finally {
        await owner.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
      }
      await expect(audit.verifyChain()).resolves.toMatchObject({
        valid: false,
        first_broken_seq: 13,
        reason: 'seq_gap',
      });
    });
  });
});
