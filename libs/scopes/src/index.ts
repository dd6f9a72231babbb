export * from './scope-algebra';
