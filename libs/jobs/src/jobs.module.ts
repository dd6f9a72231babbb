import { Module } from '@nestjs/common';
import { JobHandlers } from './job-handlers';
import { JobsProducer } from './jobs.producer';
import { MAINTENANCE_TASKS, MaintenanceTasks } from './maintenance-tasks';

/**
 * The shared BullMQ setup of both processes: the producer (enqueue), the handler registry and the
 * maintenance-task registry. A static module, so every importer shares one instance of each.
 * Consuming the queues is `JobsWorkerModule`'s job, imported by the worker app only.
 */
@Module({
  providers: [
    JobsProducer,
    JobHandlers,
    MaintenanceTasks,
    { provide: MAINTENANCE_TASKS, useExisting: MaintenanceTasks },
  ],
  exports: [JobsProducer, JobHandlers, MaintenanceTasks, MAINTENANCE_TASKS],
})
export class JobsModule {}
