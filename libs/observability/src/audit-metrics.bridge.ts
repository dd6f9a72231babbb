import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AuditService, type RecordedAuditEvent } from '@agentauth/audit';
import { Metrics } from './metrics.service';

/**
 * Derives the security counters from the audit trail, so every context records an event once and the
 * metrics follow: tokens issued by grant type, authentication failures, audit batch sizes.
 */
@Injectable()
export class AuditMetricsBridge implements OnModuleInit, OnModuleDestroy {
  private readonly unsubscribers: (() => void)[] = [];

  constructor(
    private readonly audit: AuditService,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    this.unsubscribers.push(
      this.audit.onBatchCommitted((size) => this.metrics.auditBatch(size)),
      this.audit.onRecorded((event) => this.count(event)),
    );
  }

  onModuleDestroy(): void {
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
  }

  private count(event: RecordedAuditEvent): void {
    const details = event.details;
    if (event.eventType === 'token.issued' && event.outcome === 'success') {
      this.metrics.tokenIssued(typeof details.grant_type === 'string' ? details.grant_type : 'unknown');
    } else if (event.eventType === 'client_auth.failed') {
      const reason = typeof details.reason === 'string' ? details.reason : 'unknown';
      this.metrics.authFailure(reason);
    }
  }
}
