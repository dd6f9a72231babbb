/** Input limits of agent fields (also CHECK constraints in the table where they are structural). */
export const AGENT_LIMITS = {
  name: 200,
  description: 2000,
  version: 100,
  capabilities: 50,
  capability: 100,
  scopes: 100,
} as const;
