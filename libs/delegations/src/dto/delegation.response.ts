import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Delegation, DelegationKind, DelegationStatus, RevocationReason } from '../delegation.entity';

/** A delegation as the API shows it. Never its path or its token's `jti`. */
export class DelegationResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) root_agent_id: string;
  @ApiProperty({ format: 'uuid', description: 'The first delegator of the chain (the `sub` of its tokens).' })
  original_delegator_id: string;
  @ApiProperty({ format: 'uuid' }) delegator_agent_id: string;
  @ApiProperty({ format: 'uuid' }) delegate_agent_id: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) parent_delegation_id: string | null;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ description: '1 for a first hop.' }) depth: number;
  @ApiProperty({ nullable: true, type: Number }) max_depth: number | null;
  @ApiProperty({ enum: ['active', 'revoked'] }) status: DelegationStatus;
  @ApiProperty({ format: 'date-time' }) expires_at: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) revoked_at: string | null;
  @ApiProperty({
    nullable: true,
    enum: ['revoked', 'parent_revoked', 'agent_deactivated', 'issue_failed'],
  })
  revocation_reason: RevocationReason | null;
  @ApiProperty({
    enum: ['delegation', 'authorization_code'],
    description:
      '`authorization_code`: a consent given in the browser at /auth/authorize (CONTRACT §11), usable only through the authorization_code and refresh_token grants, never re-delegated.',
  })
  kind: DelegationKind;
  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The resource (RFC 8707) a consent was given for; null: the management API.',
  })
  resource: string | null;
}

export class CreatedDelegationResponse extends DelegationResponse {
  @ApiProperty({
    description:
      'Signed JWT (`typ: delegation+jwt`) for the delegate, to present at the token endpoint (grant agent_delegation). Shown once.',
  })
  delegation_token: string;
}

export class DelegationPageResponse {
  @ApiProperty({ type: [DelegationResponse] }) items: DelegationResponse[];
  @ApiProperty({ nullable: true, type: String }) next_cursor: string | null;
}

/** One hop of `GET /delegations/{id}/chain`. */
export class ChainHopResponse {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) delegator_agent_id: string;
  @ApiProperty({ format: 'uuid' }) delegate_agent_id: string;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ format: 'date-time' }) expires_at: string;
  @ApiProperty({ enum: ['active', 'revoked'] }) status: DelegationStatus;
  @ApiProperty() depth: number;
}

export class DelegationChainResponse {
  @ApiProperty({ format: 'uuid' }) delegation_id: string;
  @ApiProperty({ format: 'uuid' }) original_delegator_id: string;
  @ApiProperty({ type: [ChainHopResponse], description: 'From the first delegator to this delegation.' })
  chain: ChainHopResponse[];
  @ApiProperty({
    type: [String],
    description: "The original delegator's current allowed_scopes ∩ every hop's scopes.",
  })
  effective_scopes: string[];
  @ApiProperty({
    description: 'Every hop active and unexpired, every agent of the chain active (right now).',
  })
  valid: boolean;
  @ApiPropertyOptional({
    nullable: true,
    enum: ['delegation_revoked', 'delegation_expired', 'agent_inactive', 'broken_chain'],
  })
  invalid_reason: string | null;
  @ApiProperty({
    format: 'date-time',
    description: 'The earliest expiry of any hop or agent of the chain: nothing minted from it outlives it.',
  })
  expires_at: string;
}

export class RevokeDelegationResponse {
  @ApiProperty({
    type: [String],
    description: 'Every delegation this request revoked (the target first, then its descendants, top-down).',
  })
  revoked_delegation_ids: string[];
}

export function delegationView(d: Delegation): DelegationResponse {
  return {
    id: d.id,
    root_agent_id: d.rootAgentId,
    original_delegator_id: d.originalDelegatorId,
    delegator_agent_id: d.delegatorAgentId,
    delegate_agent_id: d.delegateAgentId,
    parent_delegation_id: d.parentDelegationId,
    scopes: d.scopes,
    depth: d.depth,
    max_depth: d.maxDepth,
    status: d.status,
    expires_at: d.expiresAt.toISOString(),
    created_at: d.createdAt.toISOString(),
    revoked_at: d.revokedAt ? d.revokedAt.toISOString() : null,
    revocation_reason: d.revocationReason,
    kind: d.kind,
    resource: d.resource,
  };
}

export function chainHopView(d: Delegation): ChainHopResponse {
  return {
    id: d.id,
    delegator_agent_id: d.delegatorAgentId,
    delegate_agent_id: d.delegateAgentId,
    scopes: d.scopes,
    expires_at: d.expiresAt.toISOString(),
    status: d.status,
    depth: d.depth,
  };
}
