// The public surface of @agentauth/scope-registry: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export { ScopesModule } from './scopes.module';
export {
  isRegisteredIn,
  MAX_CUSTOM_SCOPES_PER_TREE,
  RESERVED_SCOPE_NAMESPACES,
  ScopeRegistry,
} from './scope-registry.service';
export { type ScopeRegisteredEvent, ScopeRegistrationHooks } from './scope-registration.hooks';
