import { ApiProperty } from '@nestjs/swagger';
import type { Agent, AgentStatus, TrustLevel } from '../agent.entity';

/** An agent as the API shows it (CONTRACT §2). Never the internal path. */
export class AgentResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ nullable: true, type: String }) version: string | null;
  @ApiProperty({ type: [String] }) capabilities: string[];
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) parent_agent_id: string | null;
  @ApiProperty({ format: 'uuid' }) root_agent_id: string;
  @ApiProperty({ enum: ['root', 'delegated', 'ephemeral'] }) trust_level: TrustLevel;
  @ApiProperty({ enum: ['active', 'suspended', 'deactivated'] }) status: AgentStatus;
  @ApiProperty({ type: [String] }) allowed_scopes: string[];
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata: Record<string, unknown>;
  @ApiProperty() depth: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) expires_at: string | null;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      "The agent's own rate-limit override (requests per minute), set by a strict ancestor; null = it inherits. Its effective limit is the lowest override on its chain, else RATE_LIMIT_AGENT_PER_MINUTE.",
  })
  rate_limit_per_minute: number | null;
  @ApiProperty({
    description:
      "The agent's own DPoP requirement (set by a strict ancestor; a root's at bootstrap). Inherited: the agent requires DPoP when this or any ancestor's require_dpop is true.",
  })
  require_dpop: boolean;
  @ApiProperty({
    enum: ['confidential', 'public'],
    description:
      'OAuth client type (CONTRACT §11): a public client holds no credentials and uses the authorization-code flow with PKCE only.',
  })
  client_type: 'confidential' | 'public';
  @ApiProperty({
    type: [String],
    description: 'Registered redirect URIs of the authorization-code flow (docs/authorize.md).',
  })
  redirect_uris: string[];
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export class AgentPageResponse {
  @ApiProperty({ type: [AgentResponse] }) items: AgentResponse[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}

export class DeactivateAgentResponse {
  @ApiProperty({ type: [String], description: 'Every agent this request deactivated (the target first).' })
  deactivated_agent_ids: string[];
}

export function agentView(agent: Agent): AgentResponse {
  return {
    id: agent.id,
    name: agent.name,
    description: agent.description,
    version: agent.version,
    capabilities: agent.capabilities,
    parent_agent_id: agent.parentAgentId,
    root_agent_id: agent.rootAgentId,
    trust_level: agent.trustLevel,
    status: agent.status,
    allowed_scopes: agent.allowedScopes,
    metadata: agent.metadata,
    depth: agent.depth,
    expires_at: agent.expiresAt ? agent.expiresAt.toISOString() : null,
    rate_limit_per_minute: agent.rateLimitPerMinute,
    require_dpop: agent.requireDpop,
    client_type: agent.clientType,
    redirect_uris: agent.redirectUris,
    created_at: agent.createdAt.toISOString(),
    updated_at: agent.updatedAt.toISOString(),
  };
}
