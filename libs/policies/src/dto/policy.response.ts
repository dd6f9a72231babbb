import { ApiProperty } from '@nestjs/swagger';
import type { PolicyConditions, PolicyDecisionReason, PolicyEffect } from '../evaluation/policy.types';
import type { Policy } from '../policy.entity';

/** A policy as the API shows it. */
export class PolicyResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) root_agent_id: string;
  @ApiProperty({
    format: 'uuid',
    description: 'The agent whose authority created it; it governs only that subtree.',
  })
  owner_agent_id: string;
  @ApiProperty() name: string;
  @ApiProperty({ nullable: true, type: String }) description: string | null;
  @ApiProperty({ enum: ['allow', 'deny'] }) effect: PolicyEffect;
  @ApiProperty({ type: [String] }) subjects: string[];
  @ApiProperty({ type: [String] }) actions: string[];
  @ApiProperty({ type: [String] }) resources: string[];
  @ApiProperty({ type: 'object', additionalProperties: true }) conditions: PolicyConditions;
  @ApiProperty() priority: number;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ description: '1 on create, +1 on every update.' }) version: number;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
}

export class PolicyPageResponse {
  @ApiProperty({ type: [PolicyResponse] }) items: PolicyResponse[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}

export class MatchedPolicyResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['allow', 'deny'] }) effect: PolicyEffect;
}

export class PolicyEvaluationResponse {
  @ApiProperty({ enum: ['allow', 'deny'] }) decision: 'allow' | 'deny';
  @ApiProperty({ enum: ['agent_inactive', 'explicit_deny', 'default_deny', 'explicit_allow', 'scope_grant'] })
  reason: PolicyDecisionReason;
  @ApiProperty({ type: [MatchedPolicyResponse] }) matched_policies: MatchedPolicyResponse[];
  @ApiProperty({ format: 'uuid' }) agent_id: string;
  @ApiProperty() action: string;
  @ApiProperty() resource: string;
}

export function policyView(policy: Policy): PolicyResponse {
  return {
    id: policy.id,
    root_agent_id: policy.rootAgentId,
    owner_agent_id: policy.ownerAgentId,
    name: policy.name,
    description: policy.description,
    effect: policy.effect,
    subjects: policy.subjects,
    actions: policy.actions,
    resources: policy.resources,
    conditions: policy.conditions,
    priority: policy.priority,
    enabled: policy.enabled,
    version: policy.version,
    created_at: policy.createdAt.toISOString(),
    updated_at: policy.updatedAt.toISOString(),
  };
}
