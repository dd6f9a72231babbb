import type { EvaluationAgent, EvaluationInput, PolicyDefinition } from '@agentauth/policies';

/**
 * A fixed tree for evaluator tests:
 *   ROOT ── A ── A1 ── A1X
 *        └─ B
 */
export const ROOT = '00000000-0000-4000-8000-000000000000';
export const A = '00000000-0000-4000-8000-00000000000a';
export const A1 = '00000000-0000-4000-8000-0000000000a1';
export const A1X = '00000000-0000-4000-8000-000000000a1f';
export const B = '00000000-0000-4000-8000-00000000000b';

const PATHS: Record<string, string[]> = {
  [ROOT]: [ROOT],
  [A]: [ROOT, A],
  [A1]: [ROOT, A, A1],
  [A1X]: [ROOT, A, A1, A1X],
  [B]: [ROOT, B],
};

let sequence = 0;

export function aPolicy(overrides: Partial<PolicyDefinition> = {}): PolicyDefinition {
  sequence++;
  return {
    id: `10000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    name: `policy-${sequence}`,
    effect: 'allow',
    subjects: ['*'],
    actions: ['*'],
    resources: ['*'],
    conditions: {},
    priority: 0,
    enabled: true,
    ...overrides,
  };
}

export function anAgent(id: string = A1, overrides: Partial<EvaluationAgent> = {}): EvaluationAgent {
  return {
    id,
    trust_level: id === ROOT ? 'root' : 'delegated',
    allowed_scopes: ['files:*', 'agents:read', 'crm.contacts:write'],
    active: true,
    ancestor_ids: PATHS[id] ?? [id],
    ...overrides,
  };
}

export function anInput(overrides: Partial<EvaluationInput> = {}): EvaluationInput {
  return { agent: anAgent(), action: 'files:read', ...overrides };
}
