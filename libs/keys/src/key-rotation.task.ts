import { Injectable } from '@nestjs/common';
import { AuditService } from '@agentauth/audit';
import type { KeyRotationTask } from '@agentauth/jobs';
import { SigningKeysService } from './signing-keys.service';

/**
 * What the worker's `key-rotation` queue runs: the signing-keys service's own rotation rules, plus the
 * `signing_key.rotated` audit event (which also reaches webhook subscribers).
 */
@Injectable()
export class SigningKeyRotationTask implements KeyRotationTask {
  constructor(
    private readonly keys: SigningKeysService,
    private readonly audit: AuditService,
  ) {}

  async rotate(): Promise<unknown> {
    const key = await this.keys.rotate();
    await this.audit.record({
      eventType: 'signing_key.rotated',
      outcome: 'success',
      targetType: 'signing_key',
      targetId: key.kid,
      details: { state: key.state, activates_at: key.activatesAt.toISOString() },
    });
    return key;
  }

  advance(): Promise<unknown> {
    return this.keys.advance();
  }
}
