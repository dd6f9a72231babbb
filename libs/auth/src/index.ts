export * from './auth.module';
export * from './grants/grant-handler';
export * from './grants/grant-registry';
export * from './oauth/client-authentication';
export * from './oauth/oauth-errors';
export * from './oauth/oauth-exception.filter';
export * from './oauth/token-request';
