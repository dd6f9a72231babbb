import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { aChildCaller, API, aTree } from '../../factories/agents';
import { keyRevokedByCascade } from '../../factories/audit';
import { auditEventsOf } from '../../factories/db';

/**
 * Every agent and credential operation leaves exactly one event of its own with its request id, and no
 * secret; a cascade adds one event per object it revoked, with the same request id.
 */
describe('audit trail of agent and credential operations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('records one event per act, with actor, root, target and non-secret details', async () => {
    const root = await aTree(t);
    const steps: {
      res: request.Response;
      expected: Record<string, unknown>;
      secret?: string;
      cascaded?: unknown[];
    }[] = [];
    const expectEvent = (
      res: request.Response,
      expected: Record<string, unknown>,
      secret?: string,
      cascaded?: unknown[],
    ) => steps.push({ res, expected, secret, cascaded });

    const created = await request(t.http)
      .post(`${API}/agents`)
      .set(root.auth)
      .send({ name: 'worker', allowed_scopes: ['agents:read'] })
      .expect(201);
    expectEvent(created, { event_type: 'agent.created', target_type: 'agent', target_id: created.body.id });

    const patched = await request(t.http)
      .patch(`${API}/agents/${created.body.id}`)
      .set(root.auth)
      .send({ description: 'does work' })
      .expect(200);
    expectEvent(patched, {
      event_type: 'agent.updated',
      target_id: created.body.id,
      details: { fields: ['description'] },
    });

    const key = await request(t.http)
      .post(`${API}/credentials`)
      .set(root.auth)
      .send({ agent_id: created.body.id })
      .expect(201);
    expectEvent(
      key,
      {
        event_type: 'credential.created',
        target_type: 'credential',
        target_id: key.body.id,
        details: { agent_id: created.body.id, scopes: ['agents:read'], type: 'api_key' },
      },
      key.body.api_key,
    );

    const rotated = await request(t.http)
      .post(`${API}/credentials/${key.body.id}/rotate`)
      .set(root.auth)
      .send({ grace_period_seconds: 10 })
      .expect(200);
    expectEvent(
      rotated,
      {
        event_type: 'credential.rotated',
        target_id: key.body.id,
        details: {
          agent_id: rotated.body.agent_id,
          new_credential_id: rotated.body.id,
          grace_until: rotated.body.previous.grace_until,
          type: 'api_key',
        },
      },
      rotated.body.api_key,
    );

    const revoked = await request(t.http)
      .delete(`${API}/credentials/${rotated.body.id}`)
      .set(root.auth)
      .expect(200);
    expectEvent(revoked, {
      event_type: 'credential.revoked',
      target_id: rotated.body.id,
      details: { agent_id: created.body.id },
    });

    // The rotated-out key still works for its grace period: the deactivation cascade revokes it too.
    const deactivated = await request(t.http)
      .delete(`${API}/agents/${created.body.id}`)
      .set(root.auth)
      .expect(200);
    expectEvent(
      deactivated,
      {
        event_type: 'agent.deactivated',
        target_id: created.body.id,
        details: { deactivated_count: 1, deactivated_agent_ids: [created.body.id] },
      },
      undefined,
      [
        keyRevokedByCascade(
          { agent: created.body, credentialId: key.body.id },
          { cause: 'agent_deactivated', cause_agent_id: created.body.id },
          { actor_agent_id: root.agent.id, request_id: deactivated.headers['x-request-id'] },
        ),
      ],
    );

    const unknown = randomUUID();
    const denied = await request(t.http).delete(`${API}/agents/${unknown}`).set(root.auth).expect(404);
    expectEvent(denied, {
      event_type: 'agent.deactivated',
      outcome: 'denied',
      target_id: unknown,
      details: { error: 'not_found' },
    });

    const escalation = await request(t.http)
      .post(`${API}/agents`)
      .set(root.auth)
      // agents:* is registered (it covers agents:read) but the root holds only the concrete built-ins.
      .send({ name: 'x', allowed_scopes: ['agents:*'] })
      .expect(403);
    expectEvent(escalation, {
      event_type: 'agent.created',
      outcome: 'denied',
      details: { error: 'scope_escalation' },
    });

    for (const { res, expected, secret, cascaded = [] } of steps) {
      const events = await auditEventsOf(res.headers['x-request-id']);
      const own = events.filter((e) => e.event_type === expected.event_type);
      expect(own).toHaveLength(1);
      expect(events.filter((e) => e !== own[0])).toEqual(cascaded);
      expect(own[0]).toMatchObject({
        outcome: 'success',
        actor_agent_id: root.agent.id,
        root_agent_id: root.agent.id,
        on_behalf_of: null,
        ...expected,
      });
      if (secret) expect(JSON.stringify(events)).not.toContain(secret.slice(20)); // the secret part
    }
  });

  it('records exactly one denied event when the authentication guard refuses a token for its scopes', async () => {
    const root = await aTree(t);
    const reader = await aChildCaller(t, root, { allowed_scopes: ['agents:read'] });

    // an @Audited route: the refusal is recorded under the route's event type, like a handler-level denial
    const create = await request(t.http)
      .post(`${API}/agents`)
      .set(reader.auth)
      .send({ name: 'not-allowed' })
      .expect(403);
    expect(create.body.type).toBe('urn:agentauth:problem:insufficient_scope');
    expect(await auditEventsOf(create.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'agent.created',
        outcome: 'denied',
        actor_agent_id: reader.agent.id,
        on_behalf_of: null,
        root_agent_id: root.agent.id,
        target_type: 'agent',
        target_id: null,
        ip: '127.0.0.1',
        request_id: create.headers['x-request-id'],
        details: {
          error: 'insufficient_scope',
          missing_scopes: ['agents:write'],
          route: `POST ${API}/agents`,
        },
      }),
    ]);

    // a route id is the target; an unaudited route records the generic authorization.denied
    const revoke = await request(t.http)
      .delete(`${API}/agents/${reader.agent.id}`)
      .set(reader.auth)
      .expect(403);
    expect(await auditEventsOf(revoke.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'agent.deactivated',
        outcome: 'denied',
        target_id: reader.agent.id,
        details: expect.objectContaining({ missing_scopes: ['agents:write'] }),
      }),
    ]);
    const listKeys = await request(t.http).get(`${API}/credentials`).set(reader.auth).expect(403);
    expect(await auditEventsOf(listKeys.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'authorization.denied',
        outcome: 'denied',
        actor_agent_id: reader.agent.id,
        root_agent_id: root.agent.id,
        target_type: null,
        details: {
          error: 'insufficient_scope',
          missing_scopes: ['credentials:read'],
          route: `GET ${API}/credentials`,
        },
      }),
    ]);
  });
});
