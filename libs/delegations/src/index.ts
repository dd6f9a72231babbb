// The public surface of @agentauth/delegations: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export { DelegationsModule } from './delegations.module';
export {
  DelegationsService,
  delegationTokenAudience,
  type ResolvedDelegationGrant,
} from './delegations.service';
export { buildActClaim } from './delegation-rules';
export { InvalidDelegationError, type InvalidDelegationReason } from './delegations.errors';
export { DelegationRevocationRegistry } from './delegation-revocation.registry';
