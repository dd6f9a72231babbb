export * from './scope-algebra';
export * from './built-in-scopes';
