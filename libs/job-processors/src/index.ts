// The public surface of @agentauth/job-processors: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export { JobProcessorsModule } from './job-processors.module';
export { KeyRotationProcessor } from './key-rotation.processor';
export { MaintenanceProcessor } from './maintenance.processor';
export { WebhooksProcessor } from './webhooks.processor';
export { MaintenanceTasksRegistration } from './maintenance-tasks.registration';
export {
  cascadeChecks,
  jobWiringChecks,
  REQUIRED_JOB_HANDLERS,
  REQUIRED_MAINTENANCE_TASKS,
} from './required-wiring';
