import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { BUILT_IN_SCOPES } from '@agentauth/scopes';
import { MAX_CUSTOM_SCOPES_PER_TREE } from '@agentauth/scope-registry';
import { createTestApp, type TestApp } from '../../support/app';
import { ownerQuery } from '../../support/owner-db';
import { aChildCaller, API, aTree } from '../../factories/agents';
import { auditEventsOf } from '../../factories/db';
import { allScopes, aScope } from '../../factories/scopes';

const problem = (code: string) => `urn:agentauth:problem:${code}`;

describe('scopes API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists every built-in scope, global and marked built_in, before the tree’s own', async () => {
    const root = await aTree(t);
    const custom = await aScope(t, root, 'files:read', 'Read files');
    const scopes = await allScopes(t, root);
    const builtIns = scopes.filter((s) => s.built_in);
    expect(builtIns.map((s) => s.name).sort()).toEqual([...BUILT_IN_SCOPES].sort());
    for (const s of builtIns) expect(s).toMatchObject({ root_agent_id: null, created_by: null });
    expect(scopes.map((s) => s.name)).toEqual([...builtIns.map((s) => s.name), 'files:read']);
    expect(custom).toMatchObject({
      name: 'files:read',
      description: 'Read files',
      built_in: false,
      root_agent_id: root.agent.id,
      created_by: root.agent.id,
    });
  });

  it('paginates with an opaque cursor and refuses a forged one', async () => {
    const root = await aTree(t);
    for (const name of ['a:one', 'a:two', 'a:three']) await aScope(t, root, name);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: request.Response = await request(t.http)
        .get(`${API}/scopes`)
        .query({ limit: 4, ...(cursor ? { cursor } : {}) })
        .set(root.auth)
        .expect(200);
      expect(res.body.items.length).toBeLessThanOrEqual(4);
      seen.push(...res.body.items.map((s: { name: string }) => s.name));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(Math.ceil((BUILT_IN_SCOPES.length + 3) / 4));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(['a:one', 'a:two', 'a:three', ...BUILT_IN_SCOPES]));
    for (const bad of ['!!', Buffer.from('{"t":"x","i":"y"}').toString('base64url')]) {
      const res = await request(t.http)
        .get(`${API}/scopes`)
        .query({ cursor: bad })
        .set(root.auth)
        .expect(400);
      expect(res.body.type).toBe(problem('validation_error'));
    }
  });

  it.each([
    ['upper case', 'Files:read'],
    ['empty segment', 'files::read'],
    ['trailing colon', 'files:'],
    ['bare wildcard', '*'],
    ['wildcard in the middle', 'files:*:read'],
    ['space', 'files read'],
    ['offline_access', 'offline_access'],
    ['too long', `a:${'b'.repeat(127)}`],
    ['not a string', 42],
    ['SQL', "x'; DROP TABLE scopes; --"],
  ])('refuses a name that is not a scope name (%s) with 400', async (_name, name) => {
    const root = await aTree(t);
    const res = await request(t.http).post(`${API}/scopes`).set(root.auth).send({ name }).expect(400);
    expect(res.body).toMatchObject({
      type: problem('validation_error'),
      errors: [expect.objectContaining({ field: 'name' })],
    });
  });

  it('refuses unknown fields, a missing name and a too long description', async () => {
    const root = await aTree(t);
    for (const body of [
      {},
      { name: 'x:y', root_agent_id: randomUUID() },
      { name: 'x:y', description: 'd'.repeat(1001) },
    ]) {
      const res = await request(t.http).post(`${API}/scopes`).set(root.auth).send(body).expect(400);
      expect(res.body.type).toBe(problem('validation_error'));
    }
  });

  it('refuses to shadow a built-in: its exact name is a 409, its namespace a 400', async () => {
    const root = await aTree(t);
    const exact = await request(t.http)
      .post(`${API}/scopes`)
      .set(root.auth)
      .send({ name: 'agents:read' })
      .expect(409);
    expect(exact.body.type).toBe(problem('scope_exists'));
    for (const name of ['agents:admin', 'agents:*', 'tokens:mint', 'scopes:delete', 'webhooks:read:own']) {
      const res = await request(t.http).post(`${API}/scopes`).set(root.auth).send({ name }).expect(400);
      expect(res.body).toMatchObject({
        type: problem('validation_error'),
        errors: [expect.objectContaining({ field: 'name' })],
      });
    }
    // A namespace that merely starts like a built-in one is the tenant's.
    await aScope(t, root, 'agents.ext:read');
  });

  it('answers 409 for a duplicate in the same tree, and exactly one of N concurrent registrations wins', async () => {
    const root = await aTree(t);
    await aScope(t, root, 'crm.contacts:read');
    const dup = await request(t.http)
      .post(`${API}/scopes`)
      .set(root.auth)
      .send({ name: 'crm.contacts:read' })
      .expect(409);
    expect(dup.body.type).toBe(problem('scope_exists'));

    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        request(t.http).post(`${API}/scopes`).set(root.auth).send({ name: 'crm.contacts:write' }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    const rows = await ownerQuery(
      `SELECT id FROM scopes WHERE root_agent_id = $1 AND name = 'crm.contacts:write'`,
      [root.agent.id],
    );
    expect(rows).toHaveLength(1);
  });

  it('keeps trees apart: same name in two trees, never listed across', async () => {
    const mine = await aTree(t);
    const theirs = await aTree(t);
    await aScope(t, mine, 'files:read');
    await aScope(t, theirs, 'files:read');
    await aScope(t, theirs, 'secret.project:read');
    const mineNames = (await allScopes(t, mine)).map((s) => s.name);
    expect(mineNames).not.toContain('secret.project:read');
    expect(mineNames.filter((n) => n === 'files:read')).toHaveLength(1);
    const theirRoots = (await allScopes(t, theirs)).filter((s) => !s.built_in).map((s) => s.root_agent_id);
    expect(new Set(theirRoots)).toEqual(new Set([theirs.agent.id]));
  });

  it('needs scopes:write to register and scopes:read to list; a descendant registers for the whole tree', async () => {
    const root = await aTree(t);
    const reader = await aChildCaller(t, root, { allowed_scopes: ['scopes:read'] });
    const writer = await aChildCaller(t, root, { allowed_scopes: ['scopes:write'] });
    await request(t.http).post(`${API}/scopes`).set(reader.auth).send({ name: 'x:y' }).expect(403);
    await request(t.http).get(`${API}/scopes`).set(writer.auth).expect(403);
    const scope = await aScope(t, writer, 'mail:send');
    expect(scope).toMatchObject({ root_agent_id: root.agent.id, created_by: writer.agent.id });
    expect((await allScopes(t, reader)).map((s) => s.name)).toContain('mail:send');
    await request(t.http).get(`${API}/scopes`).expect(401);
  });

  it(`stops a tree at ${MAX_CUSTOM_SCOPES_PER_TREE} custom scopes with 409 scope_limit_reached`, async () => {
    const root = await aTree(t);
    await ownerQuery(
      `INSERT INTO scopes (root_agent_id, name, created_by)
       SELECT $1, 'bulk:s' || g, $1 FROM generate_series(1, $2::int) g`,
      [root.agent.id, MAX_CUSTOM_SCOPES_PER_TREE],
    );
    const res = await request(t.http)
      .post(`${API}/scopes`)
      .set(root.auth)
      .send({ name: 'one:more' })
      .expect(409);
    expect(res.body.type).toBe(problem('scope_limit_reached'));
    // Another tree is not affected.
    await aScope(t, await aTree(t), 'one:more');
  });

  it('records scope.created (success and refusals) in the audit trail', async () => {
    const root = await aTree(t);
    const created = await request(t.http)
      .post(`${API}/scopes`)
      .set(root.auth)
      .send({ name: 'audit:me' })
      .expect(201);
    const dup = await request(t.http)
      .post(`${API}/scopes`)
      .set(root.auth)
      .send({ name: 'audit:me' })
      .expect(409);
    expect(await auditEventsOf(created.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'scope.created',
        outcome: 'success',
        target_type: 'scope',
        target_id: created.body.id,
        actor_agent_id: root.agent.id,
        root_agent_id: root.agent.id,
        details: { name: 'audit:me' },
      }),
    ]);
    expect(await auditEventsOf(dup.headers['x-request-id'])).toEqual([
      expect.objectContaining({
        event_type: 'scope.created',
        outcome: 'failure',
        details: { error: 'scope_exists', name: 'audit:me' },
      }),
    ]);
  });
});
