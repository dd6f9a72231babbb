export * from './auth.module';
export { TokenCascadesModule } from './cascades/token-cascades.module';
export * from './grants/grant-handler';
export * from './grants/grant-registry';
export * from './grants/scope-resolution';
export * from './grants/token-audit';
export * from './grants/token-target';
export * from './vocabulary/audience';
export * from './protocol/client-authentication';
export * from './vocabulary/oauth-errors';
export * from './http/oauth-exception.filter';
export * from './protocol/token-request';
export * from './vocabulary/oauth-params';
export * from './vocabulary/client-auth-methods';
export * from './clients/authenticated-client';
export * from './protocol/client-authenticator.service';
export { VerifiedKeyCache, VERIFIED_KEY_CACHE_TTL_MS } from './clients/verified-key-cache';
export * from './policy/issuance-policy';
export * from './tokens/access-token-claims';
export * from './tokens/access-token.issuer';
export * from './tokens/access-token.validator';
export * from './tokens/token-rejected.error';
export * from './http/jwt-bearer.authenticator';
export {
  TokenRevocationService,
  type TokenRevoker,
  type RevocationOutcome,
} from './revocation/token-revocation.service';
export { IntrospectionService, INTROSPECT_SCOPE } from './introspection/introspection.service';
export {
  RefreshTokensService,
  type NewFamilySpec,
  type StartedFamily,
} from './refresh/refresh-tokens.service';
export type { RefreshFamily, FamilySelector } from './refresh/refresh-tokens.repository';
export { REFRESH_TOKEN_PREFIX } from './refresh/refresh-token.format';
export { RefreshStoreModule } from './refresh/refresh-store.module';
export {
  RefreshFamiliesRetention,
  REFRESH_FAMILY_PURGE_GRACE_MS,
} from './refresh/refresh-families-retention';
export { TOKEN_EXCHANGE, ACCESS_TOKEN_TYPE } from './grants/token-exchange.grant';
export { REFRESH_TOKEN } from './grants/refresh-token.grant';
export { CLIENT_CREDENTIALS } from './grants/client-credentials.grant';
export { AGENT_DELEGATION, AGENT_DELEGATION_ALIAS } from './grants/agent-delegation.grant';
export { ReplayCache, type ReplayNamespace } from './protocol/replay-cache';
export { ClientAssertionVerifier } from './protocol/client-assertion.verifier';
export {
  DpopProofValidator,
  DpopProofError,
  DPOP_SIGNING_ALGS,
  accessTokenHash,
  type DpopRequestTarget,
  type ValidDpopProof,
} from './protocol/dpop-proof.validator';
export { DpopBinding, type DpopParties, type DpopBindingResult } from './grants/dpop-binding';
