/** Scopes of the management API (CONTRACT §5). A root agent's `allowed_scopes` include them all by default. */
export const BUILT_IN_SCOPES = [
  'agents:read',
  'agents:write',
  'credentials:read',
  'credentials:write',
  'delegations:read',
  'delegations:write',
  'policies:read',
  'policies:write',
  'resource-servers:read',
  'resource-servers:write',
  'scopes:read',
  'scopes:write',
  'tokens:introspect',
  'webhooks:read',
  'webhooks:write',
] as const;

/** Reserved request word that asks for a refresh token: never a scope, never checked, never in `scope`. */
export const OFFLINE_ACCESS = 'offline_access';
