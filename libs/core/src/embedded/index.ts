export * from './embedded-postgres';
export * from './in-process-redis';
export * from './runtime-mode';
