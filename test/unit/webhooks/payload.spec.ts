import { randomUUID } from 'node:crypto';
import { WEBHOOK_EVENT_TYPES, webhookPayloadFor } from '@agentauth/webhooks';

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
        'agent.expired',
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
