export * from './scopes.module';
export * from './scope-registry.service';
export * from './scope-registration.hooks';
export * from './unknown-scope.problem';
export { type Scope } from './scope.entity';
export { ScopeResponse, scopeView } from './dto/scope.response';
