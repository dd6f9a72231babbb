import request from 'supertest';
import { DataSource } from 'typeorm';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { Clock, InvalidationBus } from '@agentauth/core';
import { POLICY_CACHE_RECHECK_MS, PolicyDecisionService } from '@agentauth/policies';
import { twoTestApps } from '../../support/app';
import { API } from '../../factories/agents';
import { aFilesReader, aPolicy, filesReadReason as reasonOn, within } from '../../factories/policies';
import { aScope } from '../../factories/scopes';

/**
 * The compiled policy cache (docs/policies.md "Caching and invalidation"): a change through one process
 * changes every process's decisions at once (pub/sub), a lost message is corrected by the version check
 * within POLICY_CACHE_RECHECK_MS, and a warm decision reads nothing.
 */
describe('policy decision cache', () => {
  const apps = twoTestApps();

  const setup = () => aFilesReader(apps.a);

  it('a policy created, changed or deleted through instance A changes instance B’s decision at once', async () => {
    const { root, worker } = await setup();
    expect(await reasonOn(apps.b, root, worker)).toBe('scope_grant'); // B has the tree cached now

    const deny = await aPolicy(apps.a, root, { subjects: [worker.id], actions: ['files:read'] });
    const created = await within(
      2000,
      async () => (await reasonOn(apps.b, root, worker)) === 'explicit_deny',
    );
    expect(created).not.toBeNull();

    await request(apps.a.http)
      .patch(`${API}/policies/${deny.id}`)
      .set(root.auth)
      .send({ enabled: false })
      .expect(200);
    expect(
      await within(2000, async () => (await reasonOn(apps.b, root, worker)) === 'scope_grant'),
    ).not.toBeNull();

    await request(apps.a.http)
      .patch(`${API}/policies/${deny.id}`)
      .set(root.auth)
      .send({ enabled: true })
      .expect(200);
    expect(
      await within(2000, async () => (await reasonOn(apps.b, root, worker)) === 'explicit_deny'),
    ).not.toBeNull();

    await request(apps.a.http).delete(`${API}/policies/${deny.id}`).set(root.auth).expect(204);
    expect(
      await within(2000, async () => (await reasonOn(apps.b, root, worker)) === 'scope_grant'),
    ).not.toBeNull();
  });

  it('corrects a missed invalidation message within the recheck interval (version check)', async () => {
    const { root, worker } = await setup();
    expect(await reasonOn(apps.b, root, worker)).toBe('scope_grant');
    // The message is lost: A commits (and bumps the version) but publishes nothing.
    const publish = jest.spyOn(apps.a.app.get(InvalidationBus), 'publish').mockResolvedValue(false);
    await aPolicy(apps.a, root, { subjects: [worker.id], actions: ['files:read'] });
    expect(publish).toHaveBeenCalled();
    expect(await reasonOn(apps.a, root, worker)).toBe('explicit_deny'); // the writer dropped its own copy
    expect(await reasonOn(apps.b, root, worker)).toBe('scope_grant'); // B is stale, within the interval

    apps.b.app.get(Clock).advance(POLICY_CACHE_RECHECK_MS / 2);
    expect(await reasonOn(apps.b, root, worker)).toBe('scope_grant');
    apps.b.app.get(Clock).advance(POLICY_CACHE_RECHECK_MS / 2);
    expect(await reasonOn(apps.b, root, worker)).toBe('explicit_deny');
  });

  it('verify() forces the fallback on demand', async () => {
    const { root, worker } = await setup();
    expect(await reasonOn(apps.b, root, worker)).toBe('scope_grant');
    jest.spyOn(apps.a.app.get(InvalidationBus), 'publish').mockResolvedValue(false);
    await aPolicy(apps.a, root, { subjects: [worker.id], actions: ['files:read'] });
    expect(await reasonOn(apps.b, root, worker)).toBe('scope_grant');
    await apps.b.app.get(PolicyDecisionService).verify(root.agent.id);
    expect(await reasonOn(apps.b, root, worker)).toBe('explicit_deny');
  });

  it('decides on the warm path without any database query; verifies with one query after the interval', async () => {
    const { root, worker } = await setup();
    await aPolicy(apps.a, root, { subjects: [worker.id], actions: ['files:delete'] });
    await aPolicy(apps.a, root, {
      effect: 'allow',
      subjects: ['*'],
      actions: ['files:*'],
      conditions: { ip_cidrs: ['10.0.0.0/8'] },
    });
    const decisions = apps.b.app.get(PolicyDecisionService);
    const agent = {
      id: worker.id,
      trust_level: 'delegated' as const,
      allowed_scopes: ['files:read'],
      active: true,
      ancestor_ids: [root.agent.id, worker.id],
    };
    const request = {
      agent,
      action: 'files:read',
      resource: 'https://files.example.com',
      context: { ip: '10.1.2.3', time: new Date() },
    };
    expect(await decisions.evaluate(request)).toMatchObject({ reason: 'explicit_allow' }); // cold: loads

    const queries = jest.spyOn(PostgresQueryRunner.prototype, 'query');
    const dsQueries = jest.spyOn(apps.b.app.get(DataSource), 'query');
    for (let i = 0; i < 1000; i++) {
      const decision = await decisions.evaluate(request);
      if (decision.reason !== 'explicit_allow') throw new Error(`unexpected ${decision.reason}`);
    }
    const issuance = await decisions.filterScopesForIssuance({
      agent,
      scopes: ['files:read', 'files:delete', 'agents:read'],
      audience: 'https://files.example.com',
      ip: '10.1.2.3',
    });
    expect(issuance.allowed).toEqual(['files:read']);
    // The key ring's 30 s refresh (either app) may run meanwhile: the only background SQL, left out.
    const decisionSql = (spy: jest.SpyInstance) =>
      spy.mock.calls
        .map((call: unknown[]) => String(call[0]))
        .filter((sql: string) => !/signing_keys/.test(sql));
    expect(decisionSql(queries)).toEqual([]);
    expect(decisionSql(dsQueries)).toEqual([]);

    apps.b.app.get(Clock).advance(POLICY_CACHE_RECHECK_MS);
    await decisions.evaluate(request);
    const sql = decisionSql(queries);
    expect(sql).toHaveLength(1);
    expect(sql[0]).toMatch(/FROM policy_set_versions/);
  });

  it('filters scopes for issuance: each scope against every audience, with IP, time and depth', async () => {
    const { root, worker } = await setup();
    await aScope(apps.a, root, 'files:write');
    const deny = await aPolicy(apps.a, root, {
      name: 'no writes to billing',
      subjects: [worker.id],
      actions: ['files:write'],
      resources: ['https://billing.example.com'],
    });
    await aPolicy(apps.a, root, {
      subjects: ['*'],
      actions: ['files:read'],
      conditions: { max_delegation_depth: 0 },
    });
    const decisions = apps.a.app.get(PolicyDecisionService);
    const agent = {
      id: worker.id,
      trust_level: 'delegated' as const,
      allowed_scopes: ['files:read', 'files:write'],
      active: true,
      ancestor_ids: [root.agent.id],
    };
    const scopes = ['files:read', 'files:write', 'agents:read'];
    const direct = await decisions.filterScopesForIssuance({
      agent,
      scopes,
      audience: 'https://files.example.com',
    });
    expect(direct).toEqual({
      allowed: ['files:write'],
      denied: [
        {
          scope: 'files:read',
          reason: 'explicit_deny',
          matched_policies: [expect.objectContaining({ effect: 'deny' })],
          resource: 'https://files.example.com',
        },
        {
          scope: 'agents:read',
          reason: 'default_deny',
          matched_policies: [],
          resource: 'https://files.example.com',
        },
      ],
    });
    const deep = await decisions.filterScopesForIssuance({
      agent,
      scopes: ['files:read'],
      delegationDepth: 1,
    });
    expect(deep).toEqual({ allowed: ['files:read'], denied: [] });
    const twoAudiences = await decisions.filterScopesForIssuance({
      agent,
      scopes: ['files:write'],
      audience: ['https://files.example.com', 'https://billing.example.com'],
      delegationDepth: 1,
    });
    expect(twoAudiences.denied).toEqual([
      {
        scope: 'files:write',
        reason: 'explicit_deny',
        matched_policies: [{ id: deny.id, name: 'no writes to billing', effect: 'deny' }],
        resource: 'https://billing.example.com',
      },
    ]);
    // No audience = any resource `*`: a deny on one audience denies it (fail-closed).
    const anyAudience = await decisions.filterScopesForIssuance({
      agent,
      scopes: ['files:write'],
      delegationDepth: 1,
    });
    expect(anyAudience.allowed).toEqual([]);
    const inactive = await decisions.filterScopesForIssuance({
      agent: { ...agent, active: false },
      scopes: ['files:write'],
    });
    expect(inactive.denied).toEqual([
      expect.objectContaining({ scope: 'files:write', reason: 'agent_inactive' }),
    ]);
  });
});
