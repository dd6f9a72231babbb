import { Problem } from '@agentauth/core';

/**
 * 400 `unknown_scope`: a scope written somewhere (allowed_scopes, a credential's scopes, …) is not registered
 * for the tree. Lists the names in `unknown_scopes` (and as field errors when the field is known).
 */
export class UnknownScopeProblem extends Problem {
  constructor(
    readonly unknownScopes: string[],
    field?: string,
  ) {
    super(400, 'unknown_scope', `Not registered scopes: ${unknownScopes.join(' ')}`, {
      errors: field ? [{ field, message: `not registered: ${unknownScopes.join(' ')}` }] : [],
      extensions: { unknown_scopes: unknownScopes },
    });
  }
}
