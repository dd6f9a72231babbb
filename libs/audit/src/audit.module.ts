import { Global, Module } from '@nestjs/common';
import { REFUSAL_AUDIT } from '@agentauth/core';
import { AuditController } from './audit.controller';
import { AuditInterceptor } from './audit.interceptor';
import { AuditQueryService } from './audit-query.service';
import { AuditRepository } from './audit.repository';
import { GuardRefusalAudit } from './guard-refusal.audit';
import { AUDIT_OPTIONS, AuditService, DEFAULT_AUDIT_OPTIONS } from './audit.service';
import { StatsRegistry } from './stats.registry';
import { StatsService } from './stats.service';

/**
 * The audit trail (docs/audit.md): `AuditService.record` for every security-relevant act, the
 * `@Audited` routes' interceptor, the authentication guard's refusals (`REFUSAL_AUDIT`), the hash chain, and the operators' endpoints (`GET /audit/events`, `GET /stats`).
 * Global so every context can inject `AuditService` and `StatsRegistry` without importing it.
 */
@Global()
@Module({
  controllers: [AuditController],
  providers: [
    { provide: AUDIT_OPTIONS, useValue: DEFAULT_AUDIT_OPTIONS },
    AuditRepository,
    AuditService,
    AuditQueryService,
    StatsRegistry,
    StatsService,
    // Bound per route by `@Audited` (not global: routes that audit nothing pay nothing for it).
    AuditInterceptor,
    // Core's authentication guard records its refusals (401, 403 insufficient_scope) through this port.
    { provide: REFUSAL_AUDIT, useClass: GuardRefusalAudit },
  ],
  exports: [AuditService, StatsRegistry, REFUSAL_AUDIT],
})
export class AuditModule {}
