import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';

export const AUTH_REQUIREMENT = 'agentauth:auth';
export const ADMIN_ONLY = 'agentauth:admin-only';

export interface AuthRequirement {
  /** Every one of these must be covered by the calling token's scopes. */
  scopes: string[];
}

/**
 * The one way a management route states its authentication: a Bearer access token issued by this server
 * whose scopes cover `scopes`. Routes without `@Auth`, `@AdminOnly` or `@Public` are refused by the
 * global guard (deny by default).
 */
export const Auth = (requirement: AuthRequirement = { scopes: [] }): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(AUTH_REQUIREMENT, requirement), ApiBearerAuth('bearer'));

/** Operator endpoints: `X-Admin-Key` = `ADMIN_API_KEY`. A Bearer token never opens them. */
export const AdminOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(ADMIN_ONLY, true), ApiSecurity('admin'));
