export * from './audit-event';
export * from './audit.module';
export * from './audit.service';
export * from './guard-refusal.audit';
export {
  canonicalEventText,
  canonicalJson,
  eventHash,
  GENESIS_HASH,
  type ChainVerification,
  type RecordedAuditEvent,
} from './audit-chain';
export { isSensitiveKey, sanitizeDetails, InvalidAuditEventError } from './audit-sanitizer';
export { GroupCommitQueue, type GroupCommitOptions } from './group-commit-queue';
export { StatsRegistry, type StatsContributor } from './stats.registry';
export { Audited } from './audit.interceptor';
