export * from './bull-connection';
export * from './job-handlers';
export * from './jobs.constants';
export * from './jobs.module';
export * from './jobs.producer';
export * from './jobs-worker.module';
export * from './key-rotation-task';
export * from './maintenance-tasks';
