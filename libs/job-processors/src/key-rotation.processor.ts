import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import {
  JobHandlers,
  KEY_ROTATION_JOBS,
  KEY_ROTATION_TASK,
  type KeyRotationTask,
  QUEUES,
} from '@agentauth/jobs';

/**
 * `key-rotation` queue: `rotate` (scheduled every KEY_ROTATION_DAYS, or on demand) and `advance`
 * (scheduled every MAINTENANCE_INTERVAL_SECONDS) call the signing-keys module's `KEY_ROTATION_TASK`.
 * Until a module provides it the jobs complete as skipped.
 */
@Injectable()
export class KeyRotationProcessor implements OnModuleInit {
  constructor(
    private readonly handlers: JobHandlers,
    private readonly logger: PinoLogger,
    @Optional() @Inject(KEY_ROTATION_TASK) private readonly task?: KeyRotationTask,
  ) {
    this.logger.setContext('KeyRotationProcessor');
  }

  onModuleInit(): void {
    this.handlers.register(QUEUES.keyRotation, KEY_ROTATION_JOBS.rotate, () => this.run('rotate'));
    this.handlers.register(QUEUES.keyRotation, KEY_ROTATION_JOBS.advance, () => this.run('advance'));
  }

  async run(step: 'rotate' | 'advance'): Promise<unknown> {
    if (!this.task) {
      this.logger.warn({ step }, 'no key rotation task is registered; skipped');
      return { skipped: 'no key rotation task registered' };
    }
    const result = await this.task[step]();
    this.logger.info({ step }, `signing keys: ${step} done`);
    return result ?? null;
  }
}
