// The public surface of @agentauth/audit: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export { annotateAudit, type AuditEventInput, type AuditOrigin, requestAuditFields } from './audit-event';
export { Audited } from './audit.interceptor';
export { AuditModule } from './audit.module';
export { AUDIT_OPTIONS, AuditService, DEFAULT_AUDIT_OPTIONS } from './audit.service';
export { type RecordedAuditEvent } from './audit-chain';
export { StatsRegistry } from './stats.registry';
