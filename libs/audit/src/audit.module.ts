import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { AuditController } from './audit.controller';
import { AuditInterceptor } from './audit.interceptor';
import { AuditQueryService } from './audit-query.service';
import { AuditRepository } from './audit.repository';
import { AUDIT_OPTIONS, AuditService, DEFAULT_AUDIT_OPTIONS } from './audit.service';
import { StatsRegistry } from './stats.registry';
import { StatsService } from './stats.service';

/**
 * The audit trail (docs/audit.md): `AuditService.record` for every security-relevant act, the global
 * `@Audited` interceptor, the hash chain, and the operators' endpoints (`GET /audit/events`, `GET /stats`).
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
    { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
  ],
  exports: [AuditService, StatsRegistry],
})
export class AuditModule {}
