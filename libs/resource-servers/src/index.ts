export * from './resource-servers.module';
export { ResourceServersService, type ResourceServerTarget } from './resource-servers.service';
export * from './resource-server-deletion.registry';
export { identifierProblems, MAX_IDENTIFIER_LENGTH } from './resource-server-identifier';
export { ResourceServerResponse, resourceServerView } from './dto/resource-server.response';
