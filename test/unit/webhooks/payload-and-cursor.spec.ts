import { randomUUID } from 'node:crypto';
import { Problem } from '@agentauth/core';
import { WEBHOOK_EVENT_TYPES, webhookPayloadFor } from '@agentauth/webhooks';
import { decodeCursor, encodeCursor, pageOf } from '../../../libs/webhooks/src/pagination';

describe('webhookPayloadFor', () => {
  const base = {
    id: randomUUID(),
    occurredAt: '2026-01-02T03:04:05.000Z',
    outcome: 'success',
    rootAgentId: randomUUID(),
    actorAgentId: randomUUID(),
    targetType: 'credential',
    targetId: randomUUID(),
    details: { reason: 'x' },
  };

  it('covers the documented catalogue', () => {
    expect([...WEBHOOK_EVENT_TYPES].sort()).toEqual(
      [
        'agent.deactivated',
        'credential.revoked',
        'credential.rotated',
        'delegation.revoked',
        'refresh_token.reuse_detected',
        'signing_key.rotated',
      ].sort(),
    );
  });

  it('builds the payload of a tree event', () => {
    expect(webhookPayloadFor({ ...base, eventType: 'credential.revoked' })).toEqual({
      id: base.id,
      type: 'credential.revoked',
      occurred_at: '2026-01-02T03:04:05.000Z',
      root_agent_id: base.rootAgentId,
      data: {
        outcome: 'success',
        actor_agent_id: base.actorAgentId,
        on_behalf_of: null,
        target_type: 'credential',
        target_id: base.targetId,
        ip: null,
        request_id: null,
        details: { reason: 'x' },
      },
    });
  });

  it('skips unknown types, non-success outcomes and tree events without a root', () => {
    expect(webhookPayloadFor({ ...base, eventType: 'agent.created' })).toBeUndefined();
    expect(
      webhookPayloadFor({ ...base, eventType: 'credential.revoked', outcome: 'failure' }),
    ).toBeUndefined();
    expect(
      webhookPayloadFor({ ...base, eventType: 'credential.revoked', rootAgentId: null }),
    ).toBeUndefined();
  });

  it('delivers reuse detection whatever its outcome, and key rotation without a tree', () => {
    expect(
      webhookPayloadFor({ ...base, eventType: 'refresh_token.reuse_detected', outcome: 'denied' }),
    ).toBeDefined();
    const key = webhookPayloadFor({ ...base, eventType: 'signing_key.rotated', rootAgentId: null });
    expect(key?.root_agent_id).toBeNull();
  });
});

describe('list cursors', () => {
  it('round-trips (created_at, id)', () => {
    const position = { createdAt: new Date('2026-01-02T03:04:05.678Z'), id: randomUUID() };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
    expect(decodeCursor(undefined)).toBeUndefined();
  });

  it.each([
    'not base64!',
    Buffer.from('not json').toString('base64url'),
    Buffer.from('{"c":"2026-01-02T03:04:05.678Z","i":"nope"}').toString('base64url'),
    Buffer.from('{"c":"yesterday","i":"8a7e1a3c-2b1e-4c53-9d44-1f0e6f1c2a3b"}').toString('base64url'),
    Buffer.from('null').toString('base64url'),
  ])('refuses the malformed cursor %s with a 400', (cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(Problem);
    try {
      decodeCursor(cursor);
    } catch (error) {
      expect((error as Problem).status).toBe(400);
    }
  });

  it('pages limit + 1 rows into items and next_cursor', () => {
    const rows = [3, 2, 1].map((n) => ({ createdAt: new Date(n * 1000), id: randomUUID() }));
    const page = pageOf(rows, 2, (r) => r.id);
    expect(page.items).toEqual([rows[0].id, rows[1].id]);
    expect(decodeCursor(page.next_cursor!)).toEqual(rows[1]);
    expect(pageOf(rows.slice(0, 2), 2, (r) => r.id).next_cursor).toBeNull();
  });
});
