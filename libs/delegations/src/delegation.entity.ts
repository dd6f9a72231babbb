import { Column, Entity, PrimaryColumn } from 'typeorm';

export type DelegationStatus = 'active' | 'revoked';
export const DELEGATION_STATUSES: readonly DelegationStatus[] = ['active', 'revoked'];

/** Why a delegation was revoked (kept for operators; the API shows it as `revocation_reason`). */
export type RevocationReason = 'revoked' | 'parent_revoked' | 'agent_deactivated' | 'issue_failed';

/**
 * `delegation`: made at `POST /delegations`, used through the agent_delegation grant. `authorization_code`:
 * a consent given at `GET /auth/authorize` (CONTRACT §11), usable only through the authorization_code and
 * refresh_token grants and never re-delegated.
 */
export type DelegationKind = 'delegation' | 'authorization_code';

/** Longest chain (first hop = depth 1); also a CHECK constraint in the table. */
export const MAX_DELEGATION_DEPTH = 10;

/**
 * One hop of a delegation chain (CONTRACT §6): `delegatorAgentId` lets `delegateAgentId` act on the chain's
 * authority (`originalDelegatorId`, the `sub` of tokens minted from it) within `scopes` until `expiresAt`.
 * Only `status`, `revokedAt` and `revocationReason` ever change (trigger).
 */
@Entity({ name: 'delegations' })
export class Delegation {
  @PrimaryColumn('uuid')
  id: string;

  /** The tree (tenant) the whole chain lives in. */
  @Column('uuid')
  rootAgentId: string;

  /** The first delegator of the chain: on whose authority every hop acts. */
  @Column('uuid')
  originalDelegatorId: string;

  @Column('uuid')
  delegatorAgentId: string;

  @Column('uuid')
  delegateAgentId: string;

  @Column('uuid', { nullable: true })
  parentDelegationId: string | null;

  @Column('text', { array: true })
  scopes: string[];

  /** 1 for a first hop, parent's + 1 for a re-delegation. */
  @Column('integer')
  depth: number;

  /** Deepest `depth` any re-delegation below may reach (`null`: only the global MAX_DELEGATION_DEPTH). */
  @Column('integer', { nullable: true })
  maxDepth: number | null;

  /** Materialized path `<first hop id>/…/<own id>/`: internal, never in an API response. */
  @Column('text')
  path: string;

  /** `jti` of the one delegation token issued for this row: internal, never in an API response. */
  @Column('uuid')
  tokenJti: string;

  @Column('text')
  status: DelegationStatus;

  @Column('timestamptz')
  expiresAt: Date;

  @Column('timestamptz')
  createdAt: Date;

  @Column('timestamptz', { nullable: true })
  revokedAt: Date | null;

  @Column('text', { nullable: true })
  revocationReason: RevocationReason | null;

  @Column('text')
  kind: DelegationKind;

  /** The RFC 8707 resource a consent was given for (`authorization_code` kind; null: the management API). */
  @Column('text', { nullable: true })
  resource: string | null;
}

/** The delegation ids in a materialized path, first hop first, the delegation itself last. */
export function delegationIdsInPath(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}
