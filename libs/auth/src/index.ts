// The public entry point of libs/auth: what other libs, the apps and the tests use, nothing more
// (eslint.boundaries.mjs keeps everything else behind it). Everything inside is reached through AuthModule.

// The API (apps/api) and the worker (apps/worker, libs/job-processors).
export { AuthModule } from './auth.module';
export { TokenCascadesModule } from './cascades/token-cascades.module';
export { RefreshStoreModule } from './refresh/refresh-store.module';
export {
  RefreshFamiliesRetention,
  REFRESH_FAMILY_PURGE_GRACE_MS,
} from './refresh/refresh-families-retention';

// Tests: protocol constants and the pure rules they pin down.
export { VERIFIED_KEY_CACHE_TTL_MS } from './clients/verified-key-cache';
export { ACCESS_TOKEN_TYPE, TOKEN_EXCHANGE } from './grants/token-exchange.grant';
export { ScopeResolver } from './grants/scope-resolution';
export type { IssuancePolicy } from './policy/issuance-policy';
export { oauthParams } from './protocol/token-request';
export { parseBasicAuthorization, presentedClientCredentials } from './protocol/client-authentication';
export {
  actDepth,
  actSubjects,
  MalformedClaimsError,
  MAX_ACT_DEPTH,
  parseAccessTokenClaims,
  principalOf,
  revocationRefsOf,
} from './tokens/access-token-claims';
export {
  InvalidClientError,
  InvalidRequestError,
  InvalidScopeError,
  InvalidTargetError,
} from './vocabulary/oauth-errors';
export { namedAudience } from './vocabulary/audience';
