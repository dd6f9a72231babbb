import { ApiProperty } from '@nestjs/swagger';
import type { Scope } from '../scope.entity';

/** A registered scope as the API shows it. */
export class ScopeResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'crm.contacts:read' }) name: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ description: 'Global built-in scope (CONTRACT §5) rather than a custom scope of the tree.' })
  built_in: boolean;
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'null for a built-in' })
  root_agent_id: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'null for a built-in' })
  created_by: string | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
}

export class ScopePageResponse {
  @ApiProperty({ type: [ScopeResponse] }) items: ScopeResponse[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}

export function scopeView(scope: Scope): ScopeResponse {
  return {
    id: scope.id,
    name: scope.name,
    description: scope.description,
    built_in: scope.rootAgentId === null,
    root_agent_id: scope.rootAgentId,
    created_by: scope.createdBy,
    created_at: scope.createdAt.toISOString(),
  };
}
