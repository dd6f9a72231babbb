import { managementResourceIdentifier } from '@agentauth/core';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  buildActClaim,
  DelegationsService,
  delegationTokenAudience,
  InvalidDelegationError,
  type InvalidDelegationReason,
} from '@agentauth/delegations';
import { TokenSigner } from '@agentauth/keys';
import { createTestApp, type TestApp } from '../../support/app';
import { API, type Caller } from '../../factories/agents';
import { freezeClock } from '../../factories/clock';
import { aDelegation, decodeJwt, fromNow, HOUR, MINUTE } from '../../factories/delegations';
import { aThreeHopChain } from './chain-fixture';

/**
 * `DelegationsService.resolveForGrant`: what the agent_delegation grant calls with the presented
 * `delegation_token` and the authenticated client. Every refusal is an InvalidDelegationError whose reason
 * says why (the grant answers `invalid_grant` for all of them).
 */
describe('resolving a delegation token for the agent_delegation grant', () => {
  let t: TestApp;
  let service: DelegationsService;
  let signer: TokenSigner;
  let audience: string;

  beforeAll(async () => {
    t = await createTestApp();
    service = t.app.get(DelegationsService);
    signer = t.app.get(TokenSigner);
    audience = delegationTokenAudience(t.config);
  });
  afterAll(async () => {
    await t.close();
  });

  async function refusal(token: string, caller: string): Promise<InvalidDelegationReason> {
    try {
      await service.resolveForGrant(token, caller);
    } catch (error) {
      if (error instanceof InvalidDelegationError) return error.reason;
      throw error;
    }
    throw new Error('resolveForGrant accepted the token');
  }

  const setStatus = (root: Caller, agent: Caller, status: string) =>
    request(t.http).patch(`${API}/agents/${agent.agent.id}`).set(root.auth).send({ status }).expect(200);

  it('answers the chain, the effective scopes, sub, the nested act and the expiry', async () => {
    const c = await aThreeHopChain(t);
    const resolved = await service.resolveForGrant(c.d3.delegation_token as string, c.ephemeral.agent.id);
    expect(resolved).toMatchObject({
      delegationIds: [c.d1.id, c.d2.id, c.d3.id],
      effectiveScopes: ['agents:read', 'delegations:write'],
      originalDelegatorId: c.root.agent.id,
      delegateAgentId: c.ephemeral.agent.id,
      act: {
        sub: c.ephemeral.agent.id,
        act: { sub: c.worker.agent.id, act: { sub: c.orchestrator.agent.id } },
      },
      actChain: [{ sub: c.ephemeral.agent.id }, { sub: c.worker.agent.id }, { sub: c.orchestrator.agent.id }],
      expiresAt: new Date(c.d3.expires_at),
      depth: 3,
    });
    expect(resolved.delegation.id).toBe(c.d3.id);
    expect(resolved.chain.map((d) => d.id)).toEqual([c.d1.id, c.d2.id, c.d3.id]);
    expect(resolved.act).toEqual(
      buildActClaim([c.orchestrator.agent.id, c.worker.agent.id, c.ephemeral.agent.id]),
    );

    const first = await service.resolveForGrant(c.d1.delegation_token as string, c.orchestrator.agent.id);
    expect(first).toMatchObject({
      originalDelegatorId: c.root.agent.id,
      act: { sub: c.orchestrator.agent.id },
      effectiveScopes: c.d1.scopes,
      depth: 1,
    });
    expect(first.act.act).toBeUndefined();
  });

  it('bounds the expiry by every agent of the chain, not only by the hops', async () => {
    const c = await aThreeHopChain(t);
    // The ephemeral agent (d3's delegate) is given an expiry before d3's own.
    const agentExpiry = fromNow(t, 30 * MINUTE);
    await request(t.http)
      .patch(`${API}/agents/${c.ephemeral.agent.id}`)
      .set(c.root.auth)
      .send({ expires_at: agentExpiry })
      .expect(200);
    const resolved = await service.resolveForGrant(c.d3.delegation_token as string, c.ephemeral.agent.id);
    expect(resolved.expiresAt.toISOString()).toBe(agentExpiry);
  });

  it('refuses tokens that are not delegation tokens of this server for this audience', async () => {
    const c = await aThreeHopChain(t);
    const token = c.d3.delegation_token as string;
    const caller = c.ephemeral.agent.id;
    const [header, payload, signature] = token.split('.');
    const tampered = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    tampered.delegation_id = c.d1.id;
    const forged = `${header}.${Buffer.from(JSON.stringify(tampered)).toString('base64url')}.${signature}`;
    const accessToken = (
      await signer.signAccessToken({
        sub: caller,
        aud: audience,
        client_id: caller,
        scope: 'agents:read',
        delegation_id: c.d3.id,
      })
    ).jwt;
    const claims = decodeJwt(token).payload;
    const expiresAt = new Date(Date.parse(c.d3.expires_at));
    const otherAudience = (
      await signer.signDelegationToken(
        {
          sub: caller,
          aud: managementResourceIdentifier(t.config),
          jti: claims.jti as string,
          delegation_id: c.d3.id,
        },
        expiresAt,
      )
    ).jwt;
    const noDelegationId = (await signer.signDelegationToken({ sub: caller, aud: audience }, expiresAt)).jwt;
    const badDelegationId = (
      await signer.signDelegationToken({ sub: caller, aud: audience, delegation_id: 'nope' }, expiresAt)
    ).jwt;
    const cases: [string, string, InvalidDelegationReason][] = [
      ['garbage', 'not-a-jwt', 'invalid_token'],
      ['an empty string', '', 'invalid_token'],
      ['a tampered payload', forged, 'invalid_token'],
      ['an access token (typ at+jwt)', accessToken, 'invalid_token'],
      ['a delegation token for another audience', otherAudience, 'invalid_token'],
      ['a delegation token without delegation_id', noDelegationId, 'invalid_token'],
      ['a delegation token with a malformed delegation_id', badDelegationId, 'invalid_token'],
    ];
    for (const [name, presented, reason] of cases) {
      expect({ name, reason: await refusal(presented, caller) }).toEqual({ name, reason });
    }
  });

  it('refuses a token that is not the one issued for the delegation it names', async () => {
    const c = await aThreeHopChain(t);
    const caller = c.ephemeral.agent.id;
    const claims = decodeJwt(c.d3.delegation_token as string).payload;
    const expiresAt = new Date(Date.parse(c.d3.expires_at));
    const sign = async (extra: Record<string, unknown>) =>
      (
        await signer.signDelegationToken(
          { sub: caller, aud: audience, jti: claims.jti as string, delegation_id: c.d3.id, ...extra },
          expiresAt,
        )
      ).jwt;
    const cases: [string, string, InvalidDelegationReason][] = [
      ['an unknown delegation', await sign({ delegation_id: randomUUID() }), 'unknown_delegation'],
      ['another jti than the issued one', await sign({ jti: randomUUID() }), 'unknown_delegation'],
      ['a sub other than the delegate', await sign({ sub: c.worker.agent.id }), 'unknown_delegation'],
    ];
    for (const [name, presented, reason] of cases) {
      expect({ name, reason: await refusal(presented, caller) }).toEqual({ name, reason });
    }
    // The real one still works (the cases above differ only in what they say).
    await expect(service.resolveForGrant(c.d3.delegation_token as string, caller)).resolves.toBeDefined();
  });

  it('refuses a client other than the delegate', async () => {
    const c = await aThreeHopChain(t);
    for (const caller of [c.worker, c.root, c.orchestrator, c.sibling]) {
      expect(await refusal(c.d3.delegation_token as string, caller.agent.id)).toBe('not_delegate');
    }
    expect(await refusal(c.d3.delegation_token as string, 'not-an-id')).toBe('not_delegate');
  });

  it('refuses a chain with a revoked hop, this one or any above it', async () => {
    const c = await aThreeHopChain(t);
    await request(t.http).delete(`${API}/delegations/${c.d2.id}`).set(c.root.auth).expect(200);
    expect(await refusal(c.d3.delegation_token as string, c.ephemeral.agent.id)).toBe('delegation_revoked');
    expect(await refusal(c.d2.delegation_token as string, c.worker.agent.id)).toBe('delegation_revoked');
    await expect(
      service.resolveForGrant(c.d1.delegation_token as string, c.orchestrator.agent.id),
    ).resolves.toBeDefined();
  });

  it('refuses a chain while any agent on it is inactive, and accepts it again once re-activated', async () => {
    const c = await aThreeHopChain(t);
    const token = c.d3.delegation_token as string;
    const caller = c.ephemeral.agent.id;
    // A delegate in the middle of the chain.
    await setStatus(c.root, c.worker, 'suspended');
    expect(await refusal(token, caller)).toBe('agent_inactive');
    await setStatus(c.root, c.worker, 'active');
    await expect(service.resolveForGrant(token, caller)).resolves.toBeDefined();
    // The original delegator (through an ancestor): a chain whose authority comes from the orchestrator.
    const d = await aDelegation(t, c.orchestrator, {
      delegate_agent_id: c.sibling.agent.id,
      scopes: ['agents:read'],
    });
    await setStatus(c.root, c.orchestrator, 'suspended');
    expect(await refusal(d.delegation_token as string, c.sibling.agent.id)).toBe('agent_inactive');
    expect(await refusal(token, caller)).toBe('agent_inactive');
  });

  it('stops at the instant of expiry (Clock), for the grant, /chain and refresh re-checks alike', async () => {
    const c = await aThreeHopChain(t);
    const frozen = freezeClock(t);
    try {
      const expiresAt = new Date(frozen.frozenAt + 10 * MINUTE + 123);
      const d = await aDelegation(t, c.root, {
        delegate_agent_id: c.orchestrator.agent.id,
        scopes: ['agents:read'],
        expires_at: expiresAt.toISOString(),
      });
      const token = d.delegation_token as string;
      const chain = async () =>
        (await request(t.http).get(`${API}/delegations/${d.id}/chain`).set(c.root.auth).expect(200)).body;

      frozen.clock.advance(expiresAt.getTime() - frozen.frozenAt - 1); // 1 ms before
      await expect(service.resolveForGrant(token, c.orchestrator.agent.id)).resolves.toBeDefined();
      expect(await service.isChainValid(d.id)).toBe(true);
      expect((await chain()).valid).toBe(true);

      frozen.clock.advance(1); // exactly at expires_at
      expect(await refusal(token, c.orchestrator.agent.id)).toBe('delegation_expired');
      expect(await service.isChainValid(d.id)).toBe(false);
      expect(await chain()).toMatchObject({ valid: false, invalid_reason: 'delegation_expired' });
      // The stored status does not change: expiry needs no job.
      const row = await request(t.http).get(`${API}/delegations/${d.id}`).set(c.root.auth).expect(200);
      expect(row.body.status).toBe('active');
      // An expired delegation cannot be re-delegated.
      const res = await request(t.http)
        .post(`${API}/delegations`)
        .set(c.orchestrator.auth)
        .send({
          delegate_agent_id: c.worker.agent.id,
          parent_delegation_id: d.id,
          scopes: ['agents:read'],
          expires_at: new Date(expiresAt.getTime() + HOUR).toISOString(),
        });
      expect({ status: res.status, type: res.body.type }).toEqual({
        status: 409,
        type: 'urn:agentauth:problem:delegation_inactive',
      });

      // The three-hop chain expires with its shortest hop, at that instant too.
      await expect(
        service.resolveForGrant(c.d3.delegation_token as string, c.ephemeral.agent.id),
      ).resolves.toBeDefined();
      frozen.clock.advance(Date.parse(c.d3.expires_at) - expiresAt.getTime());
      expect(await refusal(c.d3.delegation_token as string, c.ephemeral.agent.id)).toBe('delegation_expired');
      expect(await service.isChainValid(c.d3.id)).toBe(false);
    } finally {
      frozen.restore();
    }
  });

  it('answers chainStatus/isChainValid for unknown and malformed ids without throwing', async () => {
    expect(await service.chainStatus(randomUUID())).toBeNull();
    expect(await service.chainStatus('nope')).toBeNull();
    expect(await service.isChainValid(randomUUID())).toBe(false);
    expect(await service.isChainValid("'; DROP TABLE delegations;--")).toBe(false);
  });
});
