export * from './agents.module';
export * from './agents.service';
export * from './agent-cascade.registry';
export { type Agent, type AgentStatus, type TrustLevel, MAX_AGENT_DEPTH } from './agent.entity';
export { chainActivity, type InactiveReason, type AgentFacts } from './agent-rules';
export { agentView, AgentResponse } from './dto/agent.response';
export { BootstrapAgentDto } from './dto/create-agent.dto';
export { pathInSubtree, restrictToSubtree } from './tree-visibility';
export * from './http/uuid-param.pipe';
export * from './http/pagination';
export * from './http/validators';
export * from './agent-rate-limit-overrides';
export {
  CLIENT_TYPES,
  matchRedirectUri,
  MAX_REDIRECT_URI_LENGTH,
  MAX_REDIRECT_URIS,
  type OAuthClientType,
  redirectUriProblem,
} from './redirect-uris';
