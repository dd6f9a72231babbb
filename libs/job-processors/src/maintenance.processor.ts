import { Injectable, OnModuleInit } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import {
  JobHandlers,
  MAINTENANCE_JOBS,
  MaintenanceTaskError,
  MaintenanceTasks,
  QUEUES,
} from '@agentauth/jobs';

/**
 * `maintenance` queue: `run` (scheduled every MAINTENANCE_INTERVAL_SECONDS, or on demand) runs every
 * registered maintenance task once. A failing task fails the job after the others ran (retried with
 * backoff; tasks are idempotent).
 */
@Injectable()
export class MaintenanceProcessor implements OnModuleInit {
  constructor(
    private readonly handlers: JobHandlers,
    private readonly tasks: MaintenanceTasks,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('MaintenanceProcessor');
  }

  onModuleInit(): void {
    this.handlers.register(QUEUES.maintenance, MAINTENANCE_JOBS.run, () => this.run());
  }

  async run(): Promise<unknown> {
    try {
      const outcome = await this.tasks.runAll();
      this.logger.info({ results: outcome.results }, 'maintenance run done');
      return outcome.results;
    } catch (error) {
      if (error instanceof MaintenanceTaskError) {
        this.logger.error(
          { results: error.outcome.results, failures: error.outcome.failures },
          'maintenance run had failures',
        );
      }
      throw error;
    }
  }
}
