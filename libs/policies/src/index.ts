// The public surface of @agentauth/policies: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export {
  type EvaluationAgent,
  type EvaluationInput,
  type PolicyDecision,
  type PolicyDefinition,
  type TimeWindow,
  type TrustLevel,
} from './evaluation/policy.types';
export { GlobMatcher } from './evaluation/glob-matcher';
export { CidrMatcher, newIpWords, parseIp } from './evaluation/cidr-matcher';
export { normalizePolicySubject, parsePolicySubject, subjectAgentIds } from './evaluation/policy-subject';
export { CompiledTimeWindow, isValidTimeZone, parseClockTime } from './evaluation/time-window';
export { validatePolicyInput } from './evaluation/policy-validation';
export { compilePolicySet, evaluatePolicies, InvalidPolicyError } from './evaluation/policy-evaluator';
export { PoliciesModule } from './policies.module';
export {
  POLICIES_CHANGED_CHANNEL,
  POLICY_CACHE_MAX_TREES,
  POLICY_CACHE_RECHECK_MS,
  POLICY_CACHE_RETRY_MS,
  PolicyDecisionService,
} from './policy-decision.service';
