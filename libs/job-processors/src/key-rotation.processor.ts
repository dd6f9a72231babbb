import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
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
 * Required, not optional: a process without it fails at boot (Nest names `KEY_ROTATION_TASK` as the
 * dependency it cannot resolve) instead of completing every rotation as skipped.
 */
@Injectable()
export class KeyRotationProcessor implements OnModuleInit {
  constructor(
    private readonly handlers: JobHandlers,
    private readonly logger: PinoLogger,
    @Inject(KEY_ROTATION_TASK) private readonly task: KeyRotationTask,
  ) {
    this.logger.setContext('KeyRotationProcessor');
  }

  onModuleInit(): void {
    this.handlers.register(QUEUES.keyRotation, KEY_ROTATION_JOBS.rotate, () => this.run('rotate'));
    this.handlers.register(QUEUES.keyRotation, KEY_ROTATION_JOBS.advance, () => this.run('advance'));
  }

  async run(step: 'rotate' | 'advance'): Promise<unknown> {
    const result = await this.task[step]();
    this.logger.info({ step }, `signing keys: ${step} done`);
    return result ?? null;
  }
}
