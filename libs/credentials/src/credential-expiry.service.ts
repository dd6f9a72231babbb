import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { AuditService } from '@agentauth/audit';
import { Clock } from '@agentauth/core';
import { CredentialsRepository } from './credentials.repository';

/**
 * Maintenance (`credentials.mark-expired`, docs/worker.md): credentials whose `expires_at` has passed become
 * `status = 'expired'`, each with one `credential.expired` audit event. The key already stopped verifying
 * at that instant (`credentialState`); this makes the state visible to `GET /credentials`, `/stats` and
 * operators. Idempotent: only `active` rows are marked, so a second run marks and records nothing.
 * Nothing else changes: tokens minted with the key never outlive it (their `exp` is capped at the key's
 * end), so no cascade is needed.
 */
@Injectable()
export class CredentialExpiry {
  constructor(
    private readonly credentials: CredentialsRepository,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('CredentialExpiry');
  }

  async markExpired(batchSize = 500): Promise<{ expired: number }> {
    let expired = 0;
    for (;;) {
      const marked = await this.credentials.markExpired(this.clock.now(), batchSize);
      expired += marked.length;
      await Promise.all(
        marked.map((credential) =>
          this.audit.record({
            eventType: 'credential.expired',
            outcome: 'success',
            targetType: 'credential',
            targetId: credential.id,
            rootAgentId: credential.rootAgentId,
            details: { agent_id: credential.agentId, expires_at: credential.expiresAt.toISOString() },
          }),
        ),
      );
      if (marked.length < batchSize) break;
    }
    if (expired > 0) this.logger.info({ expired }, 'expired credentials marked');
    return { expired };
  }
}
