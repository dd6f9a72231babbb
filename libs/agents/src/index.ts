// The public surface of @agentauth/agents: only what other libs, the apps and the tests import (checked with
// grep when it was trimmed). Tests that need an internal import it by relative path.
export { AgentsModule } from './agents.module';
export { type AgentActivity, AgentsService } from './agents.service';
export {
  AgentCascadeRegistry,
  type AgentScopeChange,
  cascadeAuditEvents,
  type CascadeRevocation,
  type RootScopesExtension,
} from './agent-cascade.registry';
export type { Agent } from './agent.entity';
export { agentView, AgentResponse } from './dto/agent.response';
export { BootstrapAgentDto } from './dto/create-agent.dto';
export {
  idsOnPath,
  pathInSubtree,
  pathUnder,
  restrictToSubtree,
  inCallersTree,
  type TreeScope,
  treeScopeOf,
} from './tree-visibility';
export { AgentRateLimitOverrides } from './agent-rate-limit-overrides';
export {
  CLIENT_TYPES,
  matchRedirectUri,
  MAX_REDIRECT_URI_LENGTH,
  MAX_REDIRECT_URIS,
  type OAuthClientType,
  redirectUriProblem,
} from './redirect-uris';
