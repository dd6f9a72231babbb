// The public surface of @agentauth/delegations: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export { DelegationsModule } from './delegations.module';
export {
  DelegationsService,
  delegationTokenAudience,
  type ChainStatus,
  type CreatedDelegation,
  type DelegationOptions,
  type DelegationTokenClaims,
  type ResolvedDelegationGrant,
} from './delegations.service';
export {
  type Delegation,
  type DelegationKind,
  type DelegationStatus,
  type RevocationReason,
  delegationIdsInPath,
  MAX_DELEGATION_DEPTH,
} from './delegation.entity';
export {
  actorsOf,
  buildActClaim,
  chainAgentIds,
  type ChainInvalidReason,
  type ChainVerdict,
  effectiveScopesOf,
  judgeChain,
} from './delegation-rules';
export { InvalidDelegationError, type InvalidDelegationReason } from './delegations.errors';
export { DelegationRevocationRegistry } from './delegation-revocation.registry';
