import { randomUUID } from 'node:crypto';
import { WEBHOOK_EVENT_TYPES, webhookAboutAgentIds, webhookPayloadFor } from '@agentauth/webhooks';

/** Which agents an event is about: the delivery filter's input (CONTRACT §7, issue 17 finding 3). */
describe('webhookAboutAgentIds', () => {
  const root = randomUUID();
  const actor = randomUUID();
  const subject = randomUUID();
  const agent = randomUUID();
  const payload = (eventType: string, fields: Record<string, unknown> = {}) =>
    webhookPayloadFor({
      id: randomUUID(),
      occurredAt: '2026-01-02T03:04:05.000Z',
      outcome: 'success',
      rootAgentId: eventType === 'signing_key.rotated' ? null : root,
      actorAgentId: actor,
      eventType,
      ...fields,
    })!;

  it('names the affected agent, never the actor', () => {
    expect(
      webhookAboutAgentIds(
        payload('credential.revoked', { targetType: 'credential', details: { agent_id: agent } }),
      ),
    ).toEqual([agent]);
    expect(
      webhookAboutAgentIds(
        payload('credential.rotated', { targetType: 'credential', details: { agent_id: agent } }),
      ),
    ).toEqual([agent]);
    expect(
      webhookAboutAgentIds(payload('agent.deactivated', { targetType: 'agent', targetId: agent })),
    ).toEqual([agent]);
    expect(webhookAboutAgentIds(payload('agent.expired', { targetType: 'agent', targetId: agent }))).toEqual([
      agent,
    ]);
    expect(
      webhookAboutAgentIds(
        payload('delegation.revoked', {
          targetType: 'delegation',
          details: { delegator_agent_id: subject, delegate_agent_id: agent },
        }),
      ),
    ).toEqual([subject, agent]);
  });

  it('a reuse is about the family: its client (the actor) and subject', () => {
    expect(webhookAboutAgentIds(payload('refresh_token.reuse_detected', { onBehalfOf: subject }))).toEqual([
      actor,
      subject,
    ]);
  });

  it('an event naming no agent is about the whole tree: the root only (fail closed)', () => {
    expect(
      webhookAboutAgentIds(payload('credential.revoked', { targetType: 'credential', details: {} })),
    ).toEqual([root]);
    expect(
      webhookAboutAgentIds(payload('credential.revoked', { details: { agent_id: 'not-a-uuid' } })),
    ).toEqual([root]);
  });

  it('a deployment-wide event goes to every subscriber (null)', () => {
    expect(webhookAboutAgentIds(payload('signing_key.rotated', { targetType: 'signing_key' }))).toBeNull();
  });

  it('every tree event type of the catalogue says what it is about', () => {
    for (const type of WEBHOOK_EVENT_TYPES.filter((t) => t !== 'signing_key.rotated')) {
      const named = webhookAboutAgentIds(
        payload(type, {
          targetType: 'agent',
          targetId: agent,
          onBehalfOf: subject,
          details: { agent_id: agent, delegator_agent_id: subject, delegate_agent_id: agent },
        }),
      );
      expect(named).not.toEqual([root]);
    }
  });
});
