import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { logCapture } from '../../support/log-capture';
import { API, type Caller } from '../../factories/agents';
import { delegationRevokedByCascade, eventsOfResponse } from '../../factories/audit';
import { auditEventsOf, columnsContaining } from '../../factories/db';
import { fromNow, HOUR, MINUTE } from '../../factories/delegations';
import { aThreeHopChain, type ChainFixture } from './chain-fixture';

/** Audit events of delegation changes (CONTRACT §7), /stats, OpenAPI, and no token ever stored or logged. */
describe('delegations: audit, stats, documentation', () => {
  let t: TestApp;
  let c: ChainFixture;
  beforeAll(async () => {
    t = await createTestApp();
    c = await aThreeHopChain(t);
  });
  afterAll(async () => {
    await t.close();
  });

  const post = (caller: Caller, body: Record<string, unknown>) =>
    request(t.http)
      .post(`${API}/delegations`)
      .set(caller.auth)
      .send({ expires_at: fromNow(t, 30 * MINUTE), ...body });

  it('records delegation.created with the hop, delegation.revoked with the revoked ids and one event per cascaded delegation, and refusals as denied', async () => {
    const created = await post(c.worker, {
      delegate_agent_id: c.sibling.agent.id,
      parent_delegation_id: c.d2.id,
      scopes: ['agents:read'],
    }).expect(201);
    const [createdEvent] = await auditEventsOf(created.headers['x-request-id']);
    expect(createdEvent).toMatchObject({
      event_type: 'delegation.created',
      outcome: 'success',
      actor_agent_id: c.worker.agent.id,
      root_agent_id: c.root.agent.id,
      target_type: 'delegation',
      target_id: created.body.id,
      details: {
        delegator_agent_id: c.worker.agent.id,
        delegate_agent_id: c.sibling.agent.id,
        original_delegator_id: c.root.agent.id,
        parent_delegation_id: c.d2.id,
        scopes: ['agents:read'],
        depth: 3,
        expires_at: created.body.expires_at,
      },
    });

    const refused = await post(c.worker, {
      delegate_agent_id: c.sibling.agent.id,
      parent_delegation_id: c.d2.id,
      scopes: ['policies:write'],
    }).expect(403);
    const [refusedEvent] = await auditEventsOf(refused.headers['x-request-id']);
    expect(refusedEvent).toMatchObject({
      event_type: 'delegation.created',
      outcome: 'denied',
      target_id: null,
      details: { error: 'scope_escalation' },
    });

    const revoked = await request(t.http)
      .delete(`${API}/delegations/${c.d2.id}`)
      .set(c.orchestrator.auth)
      .expect(200);
    const revokedIds = revoked.body.revoked_delegation_ids;
    expect(revokedIds).toEqual([c.d2.id, ...[c.d3.id, created.body.id].sort()]); // top-down
    const { events, shared: byOrchestrator } = await eventsOfResponse(
      revoked,
      c.orchestrator.agent.id,
      c.root.agent.id,
    );
    const cause = { cause: 'parent_delegation_revoked', cause_delegation_id: c.d2.id } as const;
    expect(events).toHaveLength(3);
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          ...byOrchestrator,
          event_type: 'delegation.revoked',
          outcome: 'success',
          target_type: 'delegation',
          target_id: c.d2.id,
          details: {
            revoked_count: 3,
            cascaded_count: 2,
            revoked_delegation_ids: revokedIds,
            delegator_agent_id: c.d2.delegator_agent_id,
            delegate_agent_id: c.d2.delegate_agent_id,
          },
        }),
        delegationRevokedByCascade(c.d3, cause, byOrchestrator),
        delegationRevokedByCascade(created.body, cause, byOrchestrator),
      ]),
    );
  });

  it('never stores or logs a delegation token', async () => {
    const res = await post(c.root, {
      delegate_agent_id: c.orchestrator.agent.id,
      scopes: ['agents:read'],
    }).expect(201);
    const token = res.body.delegation_token as string;
    const signature = token.split('.')[2];
    expect(logCapture.containing(signature)).toEqual([]);
    expect(await columnsContaining(signature)).toEqual([]);
    for (const d of [c.d1, c.d2, c.d3]) {
      expect(logCapture.containing((d.delegation_token as string).split('.')[2])).toEqual([]);
    }
  });

  it('counts usable delegations in /stats', async () => {
    const stats = async () =>
      (await request(t.http).get(`${API}/stats`).set('X-Admin-Key', t.config.adminApiKey).expect(200)).body;
    const before = (await stats()).delegations.active as number;
    await post(c.root, {
      delegate_agent_id: c.sibling.agent.id,
      scopes: ['agents:read'],
      expires_at: fromNow(t, HOUR),
    }).expect(201);
    expect((await stats()).delegations).toEqual({ active: before + 1 });
  });

  it('documents every delegations route with its schemas', async () => {
    const doc = (await request(t.http).get('/docs-json').expect(200)).body;
    const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        'POST /api/v1/delegations',
        'GET /api/v1/delegations',
        'GET /api/v1/delegations/{id}',
        'GET /api/v1/delegations/{id}/chain',
        'DELETE /api/v1/delegations/{id}',
      ]),
    );
    const schemas = doc.components.schemas as Record<string, { properties: Record<string, unknown> }>;
    expect(Object.keys(schemas.CreateDelegationDto.properties).sort()).toEqual([
      'delegate_agent_id',
      'expires_at',
      'max_depth',
      'parent_delegation_id',
      'scopes',
    ]);
    expect(Object.keys(schemas.CreatedDelegationResponse.properties)).toContain('delegation_token');
    expect(Object.keys(schemas.DelegationResponse.properties)).not.toContain('path');
    expect(Object.keys(schemas.DelegationChainResponse.properties)).toEqual(
      expect.arrayContaining(['chain', 'effective_scopes', 'valid']),
    );
  });
});
