import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import request from 'supertest';
import { TokenSigner, SigningKeyUnavailableError } from '@agentauth/keys';
import { createTestApp, type TestApp } from '../../support/app';
import { appRoleClient } from '../../support/audit';
import { API } from '../../factories/agents';
import { delegationRows, delegationStatuses, fromNow, MINUTE } from '../../factories/delegations';
import { aThreeHopChain, type ChainFixture } from './chain-fixture';

/**
 * The chain invariants hold below the application too (trigger, CHECKs, grants), and a delegation whose
 * token could not be signed is not left usable.
 */
describe('delegations: table constraints and issuance failure', () => {
  let t: TestApp;
  let c: ChainFixture;
  let db: Client;

  beforeAll(async () => {
    t = await createTestApp();
    c = await aThreeHopChain(t);
    db = await appRoleClient();
  });
  afterAll(async () => {
    await db.end();
    await t.close();
  });

  /** A child row of d2 as the app role would insert it, with `overrides`. */
  async function insertChild(overrides: Record<string, unknown> = {}): Promise<unknown> {
    const id = randomUUID();
    const parentPath = (
      await db.query<{ path: string }>(`SELECT path FROM delegations WHERE id = $1`, [c.d2.id])
    ).rows[0].path;
    const row: Record<string, unknown> = {
      id,
      root_agent_id: c.root.agent.id,
      original_delegator_id: c.root.agent.id,
      delegator_agent_id: c.worker.agent.id,
      delegate_agent_id: c.sibling.agent.id,
      parent_delegation_id: c.d2.id,
      scopes: ['agents:read'],
      depth: 3,
      max_depth: 3,
      path: `${parentPath}${id}/`,
      token_jti: randomUUID(),
      expires_at: new Date(Date.parse(c.d2.expires_at) - MINUTE),
      ...overrides,
    };
    const columns = Object.keys(row);
    return db.query(
      `INSERT INTO delegations (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
      Object.values(row),
    );
  }

  it('accepts a row that continues its parent, and refuses every row that does not', async () => {
    await expect(insertChild()).resolves.toBeDefined();
    const broken: [string, Record<string, unknown>][] = [
      ['a delegator other than the parent’s delegate', { delegator_agent_id: c.orchestrator.agent.id }],
      ['another original delegator', { original_delegator_id: c.orchestrator.agent.id }],
      ['a depth that skips a level', { depth: 4, max_depth: 4 }],
      ['an expiry after the parent’s', { expires_at: new Date(Date.parse(c.d2.expires_at) + 1) }],
      ['a max_depth above the parent’s', { max_depth: 4 }],
      ['no max_depth under a bounded parent', { max_depth: null }],
      ['a path outside the parent’s', { path: `${randomUUID()}/${randomUUID()}/${randomUUID()}/` }],
      ['a delegation to oneself', { delegate_agent_id: c.worker.agent.id }],
      ['no scopes', { scopes: [] }],
      ['an unknown status', { status: 'paused' }],
      ['revoked without revoked_at', { status: 'revoked', revocation_reason: 'revoked' }],
      ['a first hop with a parent-less path but a parent', { depth: 1 }],
    ];
    for (const [name, overrides] of broken) {
      const error = await insertChild(overrides).then(
        () => null,
        (e: { code?: string }) => e.code,
      );
      expect({ name, error }).toEqual({ name, error: expect.stringMatching(/^23/) });
    }
  });

  it('keeps a hop immutable, a revoked hop revoked, and rows undeletable by the app role', async () => {
    const failures: [string, string][] = [
      ['widening scopes', `UPDATE delegations SET scopes = '{agents:read,agents:write}' WHERE id = $1`],
      ['extending expiry', `UPDATE delegations SET expires_at = expires_at + interval '1 day' WHERE id = $1`],
      [
        'changing the delegate',
        `UPDATE delegations SET delegate_agent_id = delegator_agent_id WHERE id = $1`,
      ],
    ];
    for (const [name, sql] of failures) {
      const error = await db.query(sql, [c.d3.id]).then(
        () => null,
        (e: { code?: string }) => e.code,
      );
      expect({ name, error }).toEqual({ name, error: '23514' });
    }
    await db.query(
      `UPDATE delegations SET status = 'revoked', revoked_at = now(), revocation_reason = 'revoked' WHERE id = $1`,
      [c.d3.id],
    );
    const unrevoke = await db
      .query(
        `UPDATE delegations SET status = 'active', revoked_at = NULL, revocation_reason = NULL WHERE id = $1`,
        [c.d3.id],
      )
      .then(
        () => null,
        (e: { code?: string }) => e.code,
      );
    expect(unrevoke).toBe('23514');
    const deleted = await db.query(`DELETE FROM delegations WHERE id = $1`, [c.d3.id]).then(
      () => null,
      (e: { code?: string }) => e.code,
    );
    expect(deleted).toBe('42501'); // insufficient_privilege
  });

  it('revokes a delegation whose token could not be signed, and answers 503', async () => {
    const signer = t.app.get(TokenSigner);
    const spy = jest
      .spyOn(signer, 'signDelegationToken')
      .mockRejectedValueOnce(new SigningKeyUnavailableError());
    try {
      const before = (await delegationRows(c.root.agent.id)).map((r) => r.id);
      const res = await request(t.http)
        .post(`${API}/delegations`)
        .set(c.root.auth)
        .send({
          delegate_agent_id: c.sibling.agent.id,
          scopes: ['agents:read'],
          expires_at: fromNow(t, MINUTE),
        });
      expect(res.status).toBe(503);
      expect(res.body.delegation_token).toBeUndefined();
      const added = (await delegationRows(c.root.agent.id)).filter((r) => !before.includes(r.id));
      expect(added).toHaveLength(1);
      expect(await delegationStatuses([added[0].id as string])).toEqual({
        [added[0].id as string]: { status: 'revoked', reason: 'issue_failed' },
      });
    } finally {
      spy.mockRestore();
    }
  });
});
