import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { Clock } from '@agentauth/core';
import { RefreshTokensRepository } from './refresh-tokens.repository';

/**
 * A family is kept this long after its `expires_at`: its tokens are refused from `expires_at` on anyway
 * (`family_expired`), and the grace covers clock skew between processes and keeps a late presentation of a
 * used token recognisable as reuse (audited) for a while.
 */
export const REFRESH_FAMILY_PURGE_GRACE_MS = 3600_000;

/**
 * Maintenance (`refresh-tokens.purge-expired`, docs/worker.md): deletes refresh families past their
 * `expires_at` plus the grace, active or revoked alike, with every refresh token in them. Nothing can use
 * them any more; the `family` revocation markers of revoked families expire on their own (revocation
 * purge). Idempotent: what was deleted is gone, a second run deletes nothing.
 */
@Injectable()
export class RefreshFamiliesRetention {
  constructor(
    private readonly repository: RefreshTokensRepository,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('RefreshFamiliesRetention');
  }

  async purgeExpired(batchSize = 500): Promise<{ families: number; tokens: number }> {
    const total = { families: 0, tokens: 0 };
    for (;;) {
      const cutoff = new Date(this.clock.nowMs() - REFRESH_FAMILY_PURGE_GRACE_MS);
      const purged = await this.repository.purgeExpiredFamilies(cutoff, batchSize);
      total.families += purged.families;
      total.tokens += purged.tokens;
      if (purged.families < batchSize) break;
    }
    if (total.families > 0) this.logger.info(total, 'expired refresh families purged');
    return total;
  }
}
