import request from 'supertest';
import { WebhookDeliveryService, webhookPayloadFor } from '@agentauth/webhooks';
import { createTestApp, type TestApp } from '../../support/app';
import { isolatedRedisPrefix } from '../../support/worker-process';
import { aChildCaller, API, aTree, type Caller } from '../../factories/agents';
import { withDb } from '../../factories/db';
import { aDelegation, fromNow, HOUR } from '../../factories/delegations';
import { aDelegatedToken } from '../delegations/grant-helpers';

const WEBHOOK_SCOPES = [
  'agents:read',
  'credentials:read',
  'credentials:write',
  'webhooks:read',
  'webhooks:write',
];

/**
 * Finding 3 of issue 17 (CONTRACT §7): webhooks are owned by the creating token's `sub`, visible to and
 * managed by it and its ancestors only, and receive only events about the owner's subtree. The attack: a
 * leaf with `webhooks:read/write` listed the root's webhook and deleted it (204; the root then got 404), and
 * could subscribe to `*` and receive events about its ancestors.
 */
describe('webhook ownership (issue 17, finding 3)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      REDIS_KEY_PREFIX: isolatedRedisPrefix('i17-webhooks'),
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    });
  });
  afterAll(async () => {
    await t.close();
  });

  const subscribe = async (caller: Caller, events = ['*']) => {
    const res = await request(t.http)
      .post(`${API}/webhooks`)
      .set(caller.auth)
      .send({ url: 'http://127.0.0.1:9/hook', events })
      .expect(201);
    return res.body as { id: string; owner_agent_id: string };
  };
  const listed = async (caller: Caller) =>
    (
      (await request(t.http).get(`${API}/webhooks`).set(caller.auth).expect(200)).body.items as {
        id: string;
      }[]
    ).map((w) => w.id);

  it("a leaf neither sees nor deletes its ancestor's webhook; the ancestor sees and manages the leaf's", async () => {
    const root = await aTree(t);
    const leaf = await aChildCaller(t, root, { allowed_scopes: WEBHOOK_SCOPES });
    const rootHook = await subscribe(root);
    const leafHook = await subscribe(leaf);
    expect(rootHook.owner_agent_id).toBe(root.agent.id);
    expect(leafHook.owner_agent_id).toBe(leaf.agent.id);

    expect(await listed(leaf)).toEqual([leafHook.id]);
    const unknown = await request(t.http)
      .get(`${API}/webhooks/00000000-0000-4000-8000-000000000000`)
      .set(leaf.auth);
    const got = await request(t.http).get(`${API}/webhooks/${rootHook.id}`).set(leaf.auth);
    expect(got.status).toBe(404);
    expect(got.body.type).toBe(unknown.body.type);
    await request(t.http).get(`${API}/webhooks/${rootHook.id}/deliveries`).set(leaf.auth).expect(404);
    await request(t.http).delete(`${API}/webhooks/${rootHook.id}`).set(leaf.auth).expect(404);
    // The root's webhook is untouched.
    await request(t.http).get(`${API}/webhooks/${rootHook.id}`).set(root.auth).expect(200);

    expect((await listed(root)).sort()).toEqual([rootHook.id, leafHook.id].sort());
    await request(t.http).delete(`${API}/webhooks/${leafHook.id}`).set(root.auth).expect(204);
    expect(await listed(leaf)).toEqual([]);
  });

  it('a token carrying act cannot create or delete a webhook', async () => {
    const root = await aTree(t);
    const leaf = await aChildCaller(t, root, { allowed_scopes: WEBHOOK_SCOPES });
    const delegation = await aDelegation(t, root, {
      delegate_agent_id: leaf.agent.id,
      scopes: ['webhooks:read', 'webhooks:write'],
      expires_at: fromNow(t, HOUR),
    });
    const { accessToken } = await aDelegatedToken(t, leaf, delegation.delegation_token as string);
    const rootHook = await subscribe(root);
    const created = await request(t.http)
      .post(`${API}/webhooks`)
      .set('Authorization', `Bearer ${accessToken}`)
      .send({ url: 'http://127.0.0.1:9/hook', events: ['*'] });
    expect(created.status).toBe(403);
    expect(created.body.type).toMatch(/act_not_allowed$/);
    await request(t.http)
      .delete(`${API}/webhooks/${rootHook.id}`)
      .set('Authorization', `Bearer ${accessToken}`)
      .expect(403);
    expect(await listed(root)).toEqual([rootHook.id]);
  });

  it("delivers only events about the owner's subtree: a leaf's `*` webhook hears nothing of its ancestors", async () => {
    const root = await aTree(t);
    const leaf = await aChildCaller(t, root, { allowed_scopes: WEBHOOK_SCOPES });
    const rootHook = await subscribe(root);
    const leafHook = await subscribe(leaf);

    // An event about the root (its own key rotated) and one about the leaf (its key revoked by the root).
    const rotated = await request(t.http)
      .post(`${API}/credentials/${root.credentialId}/rotate`)
      .set(root.auth)
      .send({ grace_period_seconds: 60 })
      .expect(200);
    const revoked = await request(t.http)
      .delete(`${API}/credentials/${leaf.credentialId}`)
      .set(root.auth)
      .expect(200);

    const deliveredTo = async (res: request.Response, eventType: string) => {
      const event = await withDb(async (db) => {
        const { rows } = await db.query(
          `SELECT * FROM audit_events WHERE request_id = $1 AND event_type = $2`,
          [res.headers['x-request-id'], eventType],
        );
        return rows[0];
      });
      const payload = webhookPayloadFor({
        id: event.id,
        occurredAt: new Date(event.occurred_at).toISOString(),
        eventType: event.event_type,
        outcome: event.outcome,
        actorAgentId: event.actor_agent_id,
        onBehalfOf: event.on_behalf_of,
        targetType: event.target_type,
        targetId: event.target_id,
        rootAgentId: event.root_agent_id,
        ip: event.ip,
        requestId: event.request_id,
        details: event.details,
      });
      // The worker's fan-out (idempotent: in the embedded mode the in-process jobs may have run it already).
      await t.app.get(WebhookDeliveryService).fanOut(payload!);
      return withDb(async (db) => {
        const { rows } = await db.query(`SELECT webhook_id FROM webhook_deliveries WHERE event_id = $1`, [
          event.id,
        ]);
        return rows.map((r) => r.webhook_id as string).sort();
      });
    };

    expect(await deliveredTo(rotated, 'credential.rotated')).toEqual([rootHook.id]);
    expect(await deliveredTo(revoked, 'credential.revoked')).toEqual([rootHook.id, leafHook.id].sort());
  });
});
