import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { aKey, anAgent, API, aTree, type Caller } from '../../factories/agents';
import { treeSnapshot } from '../../factories/db';

/**
 * Every escalation attempt is refused and writes nothing: each case snapshots the tree's agent and
 * credential rows before and after and compares them.
 */
describe('escalation attempts are refused with nothing written', () => {
  let t: TestApp;
  let root: Caller;
  let orchestrator: Caller;
  let worker: Caller;
  let ephemeral: Caller;
  let narrowRoot: Caller; // the root agent, through a key holding agents:* only
  let credentialWriterWithoutAgentsWrite: Caller; // the orchestrator, through a key without agents:write
  let ephemeralReaderKey: Caller; // the ephemeral agent, through a read-only key
  const aKeyHolder = () => credentialWriterWithoutAgentsWrite;
  const ephemeralReader = () => ephemeralReaderKey;

  beforeAll(async () => {
    t = await createTestApp();
    root = await aTree(t);
    orchestrator = await aKey(
      t,
      root,
      await anAgent(t, root, {
        allowed_scopes: ['agents:read', 'agents:write', 'credentials:read', 'credentials:write'],
      }),
    );
    worker = await aKey(
      t,
      orchestrator,
      await anAgent(t, orchestrator, { allowed_scopes: ['agents:read', 'agents:write'] }),
    );
    ephemeral = await aKey(
      t,
      orchestrator,
      await anAgent(t, worker, {
        trust_level: 'ephemeral',
        expires_at: new Date(Date.now() + 1800_000).toISOString(),
        allowed_scopes: ['agents:read', 'agents:write'],
      }),
    );
    narrowRoot = await aKey(t, root, root.agent, { scopes: ['agents:read', 'agents:write'] });
    credentialWriterWithoutAgentsWrite = await aKey(t, root, orchestrator.agent, {
      scopes: ['agents:read', 'credentials:write'],
    });
    ephemeralReaderKey = await aKey(t, orchestrator, ephemeral.agent, { scopes: ['agents:read'] });
  });
  afterAll(async () => {
    await t.close();
  });

  type Attempt = {
    name: string;
    caller: () => Caller;
    method: 'post' | 'patch' | 'delete';
    path: () => string;
    body?: () => Record<string, unknown>;
    status: number;
    type: string;
  };

  const soon = (ms: number) => new Date(Date.now() + ms).toISOString();
  const attempts: Attempt[] = [
    {
      name: 'a child with allowed_scopes beyond its parent',
      caller: () => root,
      method: 'post',
      path: () => '/agents',
      body: () => ({
        name: 'x',
        parent_agent_id: orchestrator.agent.id,
        allowed_scopes: ['agents:read', 'policies:write'],
      }),
      status: 403,
      type: 'scope_escalation',
    },
    {
      name: 'a child with allowed_scopes beyond the calling key',
      caller: () => narrowRoot,
      method: 'post',
      path: () => '/agents',
      body: () => ({ name: 'x', allowed_scopes: ['credentials:read'] }),
      status: 403,
      type: 'scope_escalation',
    },
    {
      name: 'widening allowed_scopes beyond the parent',
      caller: () => root,
      method: 'patch',
      path: () => `/agents/${worker.agent.id}`,
      body: () => ({ allowed_scopes: ['agents:read', 'credentials:write', 'policies:read'] }),
      status: 403,
      type: 'scope_escalation',
    },
    {
      name: 'widening allowed_scopes beyond the calling key',
      caller: () => narrowRoot,
      method: 'patch',
      path: () => `/agents/${worker.agent.id}`,
      body: () => ({ allowed_scopes: ['agents:read', 'agents:write', 'credentials:read'] }),
      status: 403,
      type: 'scope_escalation',
    },
    {
      name: 'a self-PATCH of allowed_scopes (with a rename that must not land either)',
      caller: () => worker,
      method: 'patch',
      path: () => `/agents/${worker.agent.id}`,
      body: () => ({ name: 'sneaky', allowed_scopes: ['agents:read'] }),
      status: 403,
      type: 'not_strict_ancestor',
    },
    {
      name: 'a self-PATCH of expires_at',
      caller: () => ephemeral,
      method: 'patch',
      path: () => `/agents/${ephemeral.agent.id}`,
      body: () => ({ expires_at: soon(3000_000) }),
      status: 403,
      type: 'not_strict_ancestor',
    },
    {
      name: 'a self-PATCH of status (self-reactivation or suspension)',
      caller: () => worker,
      method: 'patch',
      path: () => `/agents/${worker.agent.id}`,
      body: () => ({ status: 'suspended' }),
      status: 403,
      type: 'not_strict_ancestor',
    },
    {
      name: 'a self-PATCH of rate_limit_per_minute (an agent raising its own limit)',
      caller: () => worker,
      method: 'patch',
      path: () => `/agents/${worker.agent.id}`,
      body: () => ({ rate_limit_per_minute: 10_000_000 }),
      status: 403,
      type: 'not_strict_ancestor',
    },
    {
      name: 'a self-PATCH of metadata.rate_limit_per_minute (the old override key)',
      caller: () => worker,
      method: 'patch',
      path: () => `/agents/${worker.agent.id}`,
      body: () => ({ metadata: { rate_limit_per_minute: 10_000_000 } }),
      status: 400,
      type: 'validation_error',
    },
    {
      name: 'a root setting its own rate_limit_per_minute (the operator sets a root’s)',
      caller: () => root,
      method: 'patch',
      path: () => `/agents/${root.agent.id}`,
      body: () => ({ rate_limit_per_minute: 5 }),
      status: 403,
      type: 'not_strict_ancestor',
    },
    {
      name: "a rate_limit_per_minute above the parent's effective limit (PATCH)",
      caller: () => root,
      method: 'patch',
      path: () => `/agents/${worker.agent.id}`,
      body: () => ({ rate_limit_per_minute: t.config.rateLimitAgentPerMinute + 1 }),
      status: 403,
      type: 'rate_limit_escalation',
    },
    {
      name: "a child with a rate_limit_per_minute above the parent's effective limit (POST)",
      caller: () => root,
      method: 'post',
      path: () => '/agents',
      body: () => ({ name: 'x', rate_limit_per_minute: t.config.rateLimitAgentPerMinute + 1 }),
      status: 403,
      type: 'rate_limit_escalation',
    },
    {
      name: 'a child with metadata.rate_limit_per_minute (POST)',
      caller: () => root,
      method: 'post',
      path: () => '/agents',
      body: () => ({ name: 'x', metadata: { rate_limit_per_minute: 1 } }),
      status: 400,
      type: 'validation_error',
    },
    {
      name: 'a root changing its own allowed_scopes',
      caller: () => root,
      method: 'patch',
      path: () => `/agents/${root.agent.id}`,
      body: () => ({ allowed_scopes: ['agents:read'] }),
      status: 403,
      type: 'not_strict_ancestor',
    },
    {
      name: 'asking for trust_level root in POST',
      caller: () => root,
      method: 'post',
      path: () => '/agents',
      body: () => ({ name: 'x', trust_level: 'root' }),
      status: 400,
      type: 'validation_error',
    },
    {
      name: 'changing trust_level in PATCH',
      caller: () => root,
      method: 'patch',
      path: () => `/agents/${worker.agent.id}`,
      body: () => ({ trust_level: 'root' }),
      status: 400,
      type: 'validation_error',
    },
    {
      name: 're-parenting in PATCH',
      caller: () => root,
      method: 'patch',
      path: () => `/agents/${worker.agent.id}`,
      body: () => ({ parent_agent_id: root.agent.id }),
      status: 400,
      type: 'validation_error',
    },
    {
      name: 'changing root_agent_id, depth or id in PATCH',
      caller: () => root,
      method: 'patch',
      path: () => `/agents/${worker.agent.id}`,
      body: () => ({ name: 'x', root_agent_id: worker.agent.id, depth: 0, id: root.agent.id }),
      status: 400,
      type: 'validation_error',
    },
    {
      name: 'a permanent (delegated) child under an ephemeral agent',
      caller: () => worker,
      method: 'post',
      path: () => '/agents',
      body: () => ({ name: 'x', parent_agent_id: ephemeral.agent.id, trust_level: 'delegated' }),
      status: 403,
      type: 'trust_escalation',
    },
    {
      name: 'a child of an ephemeral agent expiring after it',
      caller: () => worker,
      method: 'post',
      path: () => '/agents',
      body: () => ({ name: 'x', parent_agent_id: ephemeral.agent.id, expires_at: soon(3000_000) }),
      status: 403,
      type: 'lifetime_escalation',
    },
    {
      name: 'an ephemeral agent without expires_at',
      caller: () => root,
      method: 'post',
      path: () => '/agents',
      body: () => ({ name: 'x', trust_level: 'ephemeral' }),
      status: 400,
      type: 'validation_error',
    },
    {
      name: 'an ephemeral agent living longer than MAX_EPHEMERAL_LIFETIME_SECONDS',
      caller: () => root,
      method: 'post',
      path: () => '/agents',
      body: () => ({
        name: 'x',
        trust_level: 'ephemeral',
        expires_at: soon(t.config.maxEphemeralLifetimeSeconds * 1000 + 60_000),
      }),
      status: 400,
      type: 'validation_error',
    },
    {
      name: 'an expiry in the past',
      caller: () => root,
      method: 'post',
      path: () => '/agents',
      body: () => ({ name: 'x', expires_at: '2020-01-01T00:00:00Z' }),
      status: 400,
      type: 'validation_error',
    },
    {
      name: "removing an ephemeral agent's expiry",
      caller: () => worker,
      method: 'patch',
      path: () => `/agents/${ephemeral.agent.id}`,
      body: () => ({ expires_at: null }),
      status: 400,
      type: 'validation_error',
    },
    {
      name: 'a credential with scopes beyond its agent',
      caller: () => root,
      method: 'post',
      path: () => '/credentials',
      body: () => ({ agent_id: worker.agent.id, scopes: ['agents:read', 'credentials:read'] }),
      status: 403,
      type: 'scope_escalation',
    },
    {
      name: 'credential writes from a key without credentials:write',
      caller: () => narrowRoot,
      method: 'post',
      path: () => '/credentials',
      body: () => ({ agent_id: root.agent.id, scopes: ['credentials:write'] }),
      status: 403,
      type: 'insufficient_scope', // the route itself needs credentials:write
    },
    {
      name: 'a credential with scopes its agent has but the calling key lacks',
      caller: () => aKeyHolder(),
      method: 'post',
      path: () => '/credentials',
      body: () => ({ agent_id: worker.agent.id, scopes: ['agents:write'] }),
      status: 403,
      type: 'scope_escalation',
    },
    {
      name: 'an agent without agents:write creating agents',
      caller: () => ephemeralReader(),
      method: 'post',
      path: () => '/agents',
      body: () => ({ name: 'x' }),
      status: 403,
      type: 'insufficient_scope',
    },
  ];

  it.each(attempts.map((a) => [a.name, a]))('refuses %s', async (_name, attempt) => {
    const before = await treeSnapshot(root.agent.id);
    const req = request(t.http)[attempt.method](`${API}${attempt.path()}`).set(attempt.caller().auth);
    const res = await (attempt.body ? req.send(attempt.body()) : req);
    expect({ status: res.status, type: res.body.type }).toEqual({
      status: attempt.status,
      type: `urn:agentauth:problem:${attempt.type}`,
    });
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await treeSnapshot(root.agent.id)).toEqual(before);
  });

  it('refuses an act-carrying (delegated/exchanged) principal on credential writes', async () => {
    const { CredentialsService } = await import('@agentauth/credentials');
    const credentials = t.app.get(CredentialsService);
    const principal = {
      actorAgentId: worker.agent.id,
      subjectAgentId: root.agent.id,
      rootAgentId: root.agent.id,
      scopes: ['credentials:write', 'agents:read'],
      act: { sub: worker.agent.id },
    };
    const before = await treeSnapshot(root.agent.id);
    for (const attempt of [
      () => credentials.create(principal, { agent_id: worker.agent.id }),
      () => credentials.rotate(principal, worker.credentialId, {}),
      () => credentials.revoke(principal, worker.credentialId),
    ]) {
      await expect(attempt()).rejects.toMatchObject({ status: 403, code: 'act_not_allowed' });
    }
    expect(await treeSnapshot(root.agent.id)).toEqual(before);
  });
});
