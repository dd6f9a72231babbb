export * from './job-processors.module';
export * from './key-rotation.processor';
export * from './maintenance.processor';
export * from './webhooks.processor';
export * from './maintenance-tasks.registration';
export * from './required-wiring';
