import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import request from 'supertest';
import { AuditService } from '@agentauth/audit';
import { createTestApp, type TestApp } from '../../support/app';
import { AuditProbeModule } from '../../support/audit-probe.controller';
import { eventsOfRequest, ownerClient, uniqueRequestId } from '../../support/audit';
import { logCapture } from '../../support/log-capture';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9iZSJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';

/**
 * The @Audited interceptor on test-only probe routes: exactly one event per request, with its request id,
 * the principal, the target and the right outcome; the response waits for the commit; when the event
 * cannot be committed the request fails with 503.
 */
describe('@Audited routes', () => {
  let t: TestApp;
  let db: Client;
  const actor = randomUUID();
  const subject = randomUUID();
  const root = randomUUID();

  beforeAll(async () => {
    t = await createTestApp({}, { extraModules: [AuditProbeModule] });
    db = await ownerClient();
  });
  afterAll(async () => {
    await db.end();
    await t.close();
  });

  const probe = (rid: string) => ({
    'X-Request-ID': rid,
    'X-Probe-Actor': actor,
    'X-Probe-Subject': subject,
    'X-Probe-Root': root,
  });

  it('records a success with actor, on_behalf_of, root, target from the body, ip and request id', async () => {
    const rid = uniqueRequestId('success');
    const res = await request(t.http)
      .post('/api/v1/audit-probe/things')
      .set(probe(rid))
      .send({ name: 'thing' })
      .expect(201);
    // The response was sent after the commit: the event is already there.
    const events = await eventsOfRequest(db, rid);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event_type: 'probe.created',
      outcome: 'success',
      actor_agent_id: actor,
      on_behalf_of: subject,
      root_agent_id: root,
      target_type: 'probe',
      target_id: res.body.id,
      request_id: rid,
      details: {},
    });
    expect(events[0].ip).toMatch(/127\.0\.0\.1|::1/);
    expect(events[0].hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('leaves on_behalf_of empty when the actor acts for itself, and the actor empty without a principal', async () => {
    const own = uniqueRequestId('own');
    await request(t.http)
      .post('/api/v1/audit-probe/things')
      .set({ 'X-Request-ID': own, 'X-Probe-Actor': actor })
      .send({ name: 'x' })
      .expect(201);
    expect((await eventsOfRequest(db, own))[0]).toMatchObject({
      actor_agent_id: actor,
      on_behalf_of: null,
      root_agent_id: actor,
    });
    const anon = uniqueRequestId('anon');
    await request(t.http)
      .post('/api/v1/audit-probe/things')
      .set('X-Request-ID', anon)
      .send({ name: 'x' })
      .expect(201);
    expect((await eventsOfRequest(db, anon))[0]).toMatchObject({ actor_agent_id: null, root_agent_id: null });
  });

  it.each([
    ['post', '/things/:id/forbidden', 403, 'probe.forbidden', 'denied', 'forbidden'],
    ['get', '/things/:id', 404, 'probe.read', 'denied', 'not_found'],
    ['post', '/crash', 500, 'probe.crashed', 'failure', 'internal_error'],
  ] as const)(
    'records %s %s → %d as %s/%s with the error code',
    async (method, path, status, type, outcome, code) => {
      const rid = uniqueRequestId(`err${status}`);
      const target = randomUUID();
      const url = `/api/v1/audit-probe${path.replace(':id', target)}`;
      const http = request(t.http);
      const res = await (method === 'get' ? http.get(url) : http.post(url)).set(probe(rid)).expect(status);
      expect(res.body.request_id).toBe(rid);
      const events = await eventsOfRequest(db, rid);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        event_type: type,
        outcome,
        actor_agent_id: actor,
        target_id: path.includes(':id') ? target : null,
        details: { error: code },
      });
    },
  );

  it('records a request refused by validation (400) as a failure', async () => {
    const rid = uniqueRequestId('err400');
    const res = await request(t.http)
      .post('/api/v1/audit-probe/things')
      .set(probe(rid))
      .send({ name: 7 })
      .expect(400);
    expect(res.body.type).toBe('urn:agentauth:problem:validation_error');
    const events = await eventsOfRequest(db, rid);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: 'failure', details: { error: 'validation_error' } });
  });

  it('records nothing for a route without @Audited', async () => {
    const rid = uniqueRequestId('plain');
    await request(t.http).get('/api/v1/audit-probe/unaudited').set(probe(rid)).expect(200);
    expect(await eventsOfRequest(db, rid)).toHaveLength(0);
  });

  it('takes the handler’s annotation, drops secret-named keys and redacts token-looking values', async () => {
    const rid = uniqueRequestId('annotated');
    const thing = randomUUID();
    const secret = `s3cr3t-${randomUUID()}`;
    await request(t.http)
      .post(`/api/v1/audit-probe/things/${thing}/annotated`)
      .set(probe(rid))
      .send({
        grace_period_seconds: 30,
        client_secret: secret,
        nested: { password: secret, ok: true },
        note: JWT,
      })
      .expect(201);
    const [event] = await eventsOfRequest(db, rid);
    expect(event.target_id).toBe(thing);
    expect(event.details).toEqual({ grace_period_seconds: 30, nested: { ok: true }, note: '[redacted]' });
    expect(JSON.stringify(event)).not.toContain(secret);
    expect(logCapture.containing(secret)).toEqual([]);
    const warning = logCapture
      .forRequest(rid)
      .filter((l) => l.msg === 'audit details key dropped (named like a secret)')
      .map((l) => l.details_key);
    expect(warning.sort()).toEqual(['client_secret', 'nested.password']);
  });

  it('logs one "audit event" line per event with the fields the dashboard reads', async () => {
    const rid = uniqueRequestId('logline');
    const res = await request(t.http)
      .post('/api/v1/audit-probe/things')
      .set(probe(rid))
      .send({ name: 'x' })
      .expect(201);
    const lines = logCapture.forRequest(rid).filter((l) => l.msg === 'audit event');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      event_type: 'probe.created',
      outcome: 'success',
      actor_agent_id: actor,
      root_agent_id: root,
      target_type: 'probe',
      target_id: res.body.id,
      request_id: rid,
      level: 'info',
    });
  });

  it('tells in-process subscribers about every committed event', async () => {
    const audit = t.app.get(AuditService);
    const heard: string[] = [];
    const off = audit.onRecorded((e) => heard.push(`${e.requestId}:${e.eventType}:${e.seq > 0}`));
    const rid = uniqueRequestId('listener');
    try {
      await request(t.http)
        .post('/api/v1/audit-probe/things')
        .set(probe(rid))
        .send({ name: 'x' })
        .expect(201);
    } finally {
      off();
    }
    expect(heard).toContain(`${rid}:probe.created:true`);
  });

  describe('when the event cannot be committed', () => {
    // The app role loses INSERT on audit_events: every batch fails for real (a permission error).
    beforeAll(async () => {
      await db.query('REVOKE INSERT ON audit_events FROM agentauth_app');
    });
    afterAll(async () => {
      await db.query('GRANT INSERT ON audit_events TO agentauth_app');
    });

    it('fails the request with 503 instead of acknowledging an unrecorded act, for every request of the batch', async () => {
      const rids = Array.from({ length: 5 }, (_, i) => uniqueRequestId(`down${i}`));
      const responses = await Promise.all(
        rids.map((rid) =>
          request(t.http).post('/api/v1/audit-probe/things').set(probe(rid)).send({ name: 'x' }),
        ),
      );
      for (const res of responses) {
        expect(res.status).toBe(503);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body.type).toBe('urn:agentauth:problem:service_unavailable');
        expect(res.body).not.toHaveProperty('id');
      }
      for (const rid of rids) expect(await eventsOfRequest(db, rid)).toHaveLength(0);
      const lost = logCapture.forRequest(rids[0]).filter((l) => l.msg === 'audit event not recorded');
      expect(lost).toHaveLength(1);
      expect(lost[0]).toMatchObject({ event_type: 'probe.created', level: 'error' });
    });

    it('answers 503 for an error route too (its refusal could not be recorded either)', async () => {
      const rid = uniqueRequestId('down-err');
      await request(t.http)
        .post(`/api/v1/audit-probe/things/${randomUUID()}/forbidden`)
        .set(probe(rid))
        .expect(503);
    });

    it('recovers once the database accepts events again, with the chain intact', async () => {
      await db.query('GRANT INSERT ON audit_events TO agentauth_app');
      const rid = uniqueRequestId('recovered');
      await request(t.http)
        .post('/api/v1/audit-probe/things')
        .set(probe(rid))
        .send({ name: 'x' })
        .expect(201);
      expect(await eventsOfRequest(db, rid)).toHaveLength(1);
      await expect(t.app.get(AuditService).verifyChain()).resolves.toMatchObject({ valid: true });
    });
  });
});
