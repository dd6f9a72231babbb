import { Module } from '@nestjs/common';
import { JobSchedules } from './job-schedules';
import { JobsWorkerHost } from './jobs-worker.host';
import { JobsModule } from './jobs.module';

/** Consumes the queues and registers the schedules. Imported by the worker app only, never by the API. */
@Module({
  imports: [JobsModule],
  providers: [JobsWorkerHost, JobSchedules],
})
export class JobsWorkerModule {}
