export * from './delegations.module';
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
export { DelegationResponse, delegationView } from './dto/delegation.response';
export {
  DelegationRevocationRegistry,
  type DelegationRevocationHooks,
} from './delegation-revocation.registry';
