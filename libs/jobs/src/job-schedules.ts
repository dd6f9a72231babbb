import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig, Clock } from '@agentauth/core';
import { JobsProducer } from './jobs.producer';
import { KEY_ROTATION_JOBS, MAINTENANCE_JOBS, QUEUES, SCHEDULER_IDS } from './jobs.constants';

export const DAY_MS = 24 * 3600 * 1000;

/** Options of the jobs the schedules produce: a few retries, a bounded history, failures kept. */
export const SCHEDULED_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 10_000 },
  removeOnComplete: { count: 200 },
  removeOnFail: false,
};

/**
 * The repeatable jobs, registered by every worker at start-up under fixed scheduler ids
 * (`upsertJobScheduler`): N workers, or N restarts, keep exactly one schedule each, and re-upserting an
 * unchanged schedule keeps its next run time.
 *
 * - `key-rotation/rotate` every `KEY_ROTATION_DAYS`, the first one period after the schedule is created;
 * - `key-rotation/advance` and `maintenance/run` every `MAINTENANCE_INTERVAL_SECONDS`.
 */
@Injectable()
export class JobSchedules implements OnApplicationBootstrap {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly producer: JobsProducer,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('JobSchedules');
  }

  async onApplicationBootstrap(): Promise<void> {
    const rotateEvery = this.config.keyRotationDays * DAY_MS;
    const maintenanceEvery = this.config.maintenanceIntervalSeconds * 1000;
    const keyRotation = this.producer.queue(QUEUES.keyRotation);
    const maintenance = this.producer.queue(QUEUES.maintenance);
    await keyRotation.upsertJobScheduler(
      SCHEDULER_IDS.keyRotation,
      { every: rotateEvery, startDate: new Date(this.clock.nowMs() + rotateEvery) },
      { name: KEY_ROTATION_JOBS.rotate, data: {}, opts: SCHEDULED_JOB_OPTIONS },
    );
    await keyRotation.upsertJobScheduler(
      SCHEDULER_IDS.keyAdvance,
      { every: maintenanceEvery },
      { name: KEY_ROTATION_JOBS.advance, data: {}, opts: SCHEDULED_JOB_OPTIONS },
    );
    await maintenance.upsertJobScheduler(
      SCHEDULER_IDS.maintenance,
      { every: maintenanceEvery },
      { name: MAINTENANCE_JOBS.run, data: {}, opts: SCHEDULED_JOB_OPTIONS },
    );
    this.logger.info(
      { key_rotation_every_ms: rotateEvery, maintenance_every_ms: maintenanceEvery },
      'job schedules registered',
    );
  }
}
