import { Module } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig, ROOT_LOGGER } from '@agentauth/core';
import { usesBullQueues } from './bull-connection';
import { InProcessJobsProducer } from './in-process-jobs.producer';
import { JobHandlers } from './job-handlers';
import { BullJobsProducer, JobsProducer } from './jobs.producer';
import { MAINTENANCE_TASKS, MaintenanceTasks } from './maintenance-tasks';

/**
 * The shared jobs setup of both processes: the producer (enqueue), the handler registry and the
 * maintenance-task registry. A static module, so every importer shares one instance of each.
 *
 * The producer is chosen once, at start-up: BullMQ when REDIS_URL and DATABASE_URL are set (consuming the
 * queues is `JobsWorkerModule`'s job, in the worker process), the in-process runner of the embedded mode
 * otherwise (a worker process cannot reach an embedded database)
 * (this process runs the jobs registered in `JobHandlers` and the schedules).
 */
@Module({
  providers: [
    JobHandlers,
    {
      provide: JobsProducer,
      inject: [APP_CONFIG, ROOT_LOGGER, JobHandlers],
      useFactory: (config: AppConfig, rootLogger: Logger, handlers: JobHandlers): JobsProducer =>
        usesBullQueues(config)
          ? new BullJobsProducer(config, new PinoLogger({ pinoHttp: { logger: rootLogger } }))
          : new InProcessJobsProducer(
              config,
              handlers,
              rootLogger.child({ context: 'InProcessJobsProducer' }),
            ),
    },
    MaintenanceTasks,
    { provide: MAINTENANCE_TASKS, useExisting: MaintenanceTasks },
  ],
  exports: [JobsProducer, JobHandlers, MaintenanceTasks, MAINTENANCE_TASKS],
})
export class JobsModule {}
