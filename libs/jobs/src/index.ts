// The public surface of @agentauth/jobs: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export { bullConnection, bullPrefix, usesBullQueues } from './bull-connection';
export { JobHandlers } from './job-handlers';
export {
  KEY_ROTATION_JOBS,
  MAINTENANCE_JOBS,
  QUEUE_NAMES,
  type QueueName,
  QUEUES,
  SCHEDULER_IDS,
} from './jobs.constants';
export { JobsModule } from './jobs.module';
export { BullJobsProducer, JobsProducer } from './jobs.producer';
export { InProcessJobsProducer } from './in-process-jobs.producer';
export { JobsWorkerModule } from './jobs-worker.module';
export { KEY_ROTATION_TASK, type KeyRotationTask } from './key-rotation-task';
export { MaintenanceTaskError, MaintenanceTasks } from './maintenance-tasks';
