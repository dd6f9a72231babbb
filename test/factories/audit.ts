import type request from 'supertest';
import { auditEventsOf } from './db';
import type { DelegationJson } from './delegations';

/** The cause fields a cascade writes into each event it records (docs/audit.md "Cascades"). */
export type CascadeCause =
  | { cause: 'agent_deactivated' | 'agent_expired'; cause_agent_id: string }
  | { cause: 'parent_delegation_revoked'; cause_delegation_id: string };

/**
 * The audit events of a request (its route's own and its cascade's), and the fields they all share: the
 * caller (a direct token: no `on_behalf_of`), its tree, the request's IP and id.
 */
export async function eventsOfResponse(res: request.Response, actorAgentId: string, rootAgentId: string) {
  const requestId = res.headers['x-request-id'];
  return {
    events: await auditEventsOf(requestId),
    shared: {
      actor_agent_id: actorAgentId,
      on_behalf_of: null,
      root_agent_id: rootAgentId,
      request_id: requestId,
      ip: expect.any(String),
    },
  };
}

/** Matches the `credential.revoked` event a cascade records for one key (`fields`: actor, request id, …). */
export function keyRevokedByCascade(
  key: { agent: { id: string }; credentialId: string },
  cause: CascadeCause,
  fields: Record<string, unknown> = {},
) {
  return expect.objectContaining({
    event_type: 'credential.revoked',
    outcome: 'success',
    target_type: 'credential',
    target_id: key.credentialId,
    details: { ...cause, agent_id: key.agent.id },
    ...fields,
  });
}

/** Matches the `delegation.revoked` event a cascade records for one delegation. */
export function delegationRevokedByCascade(
  delegation: DelegationJson,
  cause: CascadeCause,
  fields: Record<string, unknown> = {},
) {
  return expect.objectContaining({
    event_type: 'delegation.revoked',
    outcome: 'success',
    target_type: 'delegation',
    target_id: delegation.id,
    details: {
      ...cause,
      delegator_agent_id: delegation.delegator_agent_id,
      delegate_agent_id: delegation.delegate_agent_id,
    },
    ...fields,
  });
}
