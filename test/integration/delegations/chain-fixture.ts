import type { TestApp } from '../../support/app';
import { aKey, anAgent, aTree, type Caller } from '../../factories/agents';
import { aDelegation, type DelegationJson, fromNow, HOUR } from '../../factories/delegations';

/**
 * The chain of issue 8: root → orchestrator → worker → ephemeral, each hop narrowing scopes and expiry.
 * Agents: root ⊃ orchestrator ⊃ {worker ⊃ ephemeral, sibling}. Every agent has a key (a caller).
 *
 *   d1 root → orchestrator   agents:read delegations:read delegations:write policies:read   6 h, max_depth 3
 *   d2 orchestrator → worker agents:read delegations:read delegations:write                 4 h
 *   d3 worker → ephemeral    agents:read delegations:write                                  1 h
 */
export interface ChainFixture {
  root: Caller;
  orchestrator: Caller;
  worker: Caller;
  ephemeral: Caller;
  sibling: Caller;
  d1: DelegationJson;
  d2: DelegationJson;
  d3: DelegationJson;
}

export const ORCHESTRATOR_SCOPES = [
  'agents:read',
  'credentials:read',
  'delegations:read',
  'delegations:write',
  'policies:read',
];

export async function aThreeHopChain(t: TestApp): Promise<ChainFixture> {
  const root = await aTree(t);
  const agent = async (parent: string, body: Record<string, unknown>) =>
    aKey(t, root, await anAgent(t, root, { parent_agent_id: parent, ...body }));
  const orchestrator = await agent(root.agent.id, {
    name: 'orchestrator',
    allowed_scopes: ORCHESTRATOR_SCOPES,
  });
  const worker = await agent(orchestrator.agent.id, { name: 'worker', allowed_scopes: ORCHESTRATOR_SCOPES });
  const ephemeral = await agent(worker.agent.id, {
    name: 'ephemeral',
    trust_level: 'ephemeral',
    expires_at: fromNow(t, 2 * HOUR),
    allowed_scopes: ['agents:read', 'delegations:read', 'delegations:write'],
  });
  const sibling = await agent(orchestrator.agent.id, {
    name: 'sibling',
    allowed_scopes: ['agents:read', 'delegations:read', 'delegations:write'],
  });
  const d1 = await aDelegation(t, root, {
    delegate_agent_id: orchestrator.agent.id,
    scopes: ['agents:read', 'delegations:read', 'delegations:write', 'policies:read'],
    expires_at: fromNow(t, 6 * HOUR),
    max_depth: 3,
  });
  const d2 = await aDelegation(t, orchestrator, {
    delegate_agent_id: worker.agent.id,
    parent_delegation_id: d1.id,
    scopes: ['agents:read', 'delegations:read', 'delegations:write'],
    expires_at: fromNow(t, 4 * HOUR),
  });
  const d3 = await aDelegation(t, worker, {
    delegate_agent_id: ephemeral.agent.id,
    parent_delegation_id: d2.id,
    scopes: ['agents:read', 'delegations:write'],
    expires_at: fromNow(t, HOUR),
  });
  return { root, orchestrator, worker, ephemeral, sibling, d1, d2, d3 };
}
