// The public surface of @agentauth/resource-servers: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export { ResourceServersModule } from './resource-servers.module';
export { ResourceServersService, type ResourceServerTarget } from './resource-servers.service';
export { ResourceServerDeletionRegistry } from './resource-server-deletion.registry';
export { identifierProblems } from './resource-server-identifier';
