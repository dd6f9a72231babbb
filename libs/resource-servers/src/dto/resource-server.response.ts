import { ApiProperty } from '@nestjs/swagger';
import { PageQuery } from '@agentauth/core';
import type { ResourceServer } from '../resource-server.entity';

/** A resource server as the API shows it. */
export class ResourceServerResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'The RFC 8707 resource indicator: `aud` of its tokens.' }) identifier: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ format: 'uuid', nullable: true, type: String }) agent_id: string | null;
  @ApiProperty({ nullable: true, type: Number }) access_token_ttl_seconds: number | null;
  @ApiProperty({ description: 'Every token for it is DPoP-bound (RFC 9449).' }) dpop_required: boolean;
  @ApiProperty({ format: 'uuid' }) root_agent_id: string;
  @ApiProperty({ format: 'uuid', description: 'The agent whose authority registered it.' })
  owner_agent_id: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export class ResourceServerPageResponse {
  @ApiProperty({ type: [ResourceServerResponse] }) items: ResourceServerResponse[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}

/** `GET /resource-servers`: `limit` and `cursor`. */
export class ListResourceServersQuery extends PageQuery {}

export function resourceServerView(server: ResourceServer): ResourceServerResponse {
  return {
    id: server.id,
    identifier: server.identifier,
    name: server.name,
    description: server.description,
    scopes: server.scopes,
    agent_id: server.agentId,
    access_token_ttl_seconds: server.accessTokenTtlSeconds,
    dpop_required: server.dpopRequired,
    root_agent_id: server.rootAgentId,
    owner_agent_id: server.ownerAgentId,
    created_at: server.createdAt.toISOString(),
    updated_at: server.updatedAt.toISOString(),
  };
}
