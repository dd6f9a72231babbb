import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { OAuthClientType } from './redirect-uris';

export type TrustLevel = 'root' | 'delegated' | 'ephemeral';
export type AgentStatus = 'active' | 'suspended' | 'deactivated';

export const TRUST_LEVELS: readonly TrustLevel[] = ['root', 'delegated', 'ephemeral'];
export const AGENT_STATUSES: readonly AgentStatus[] = ['active', 'suspended', 'deactivated'];

/** Deepest level below a root (the root is depth 0); also a CHECK constraint in the table. */
export const MAX_AGENT_DEPTH = 50;

/** One agent of the hierarchy (CONTRACT §2). Columns are snake_case in the table (SnakeNamingStrategy). */
@Entity({ name: 'agents' })
export class Agent {
  @PrimaryColumn('uuid')
  id: string;

  @Column('text')
  name: string;

  @Column('text', { nullable: true })
  description: string | null;

  @Column('text', { nullable: true })
  version: string | null;

  @Column('text', { array: true })
  capabilities: string[];

  @Column('uuid', { nullable: true })
  parentAgentId: string | null;

  @Column('uuid')
  rootAgentId: string;

  @Column('text')
  trustLevel: TrustLevel;

  @Column('text')
  status: AgentStatus;

  @Column('text', { array: true })
  allowedScopes: string[];

  @Column('jsonb')
  metadata: Record<string, unknown>;

  @Column('integer')
  depth: number;

  /** Materialized path `<root id>/…/<own id>/`: internal, never in an API response. */
  @Column('text')
  path: string;

  @Column('timestamptz', { nullable: true })
  expiresAt: Date | null;

  /**
   * Own rate-limit override (requests per minute), `null` = inherit; set by a strict ancestor (a root's by
   * the operator). The effective limit is the minimum along the chain (`effectiveRateLimit`).
   */
  @Column('integer', { nullable: true })
  rateLimitPerMinute: number | null;

  /**
   * DPoP required (CONTRACT §10), set by a strict ancestor (a root's at bootstrap). Inherited: an agent
   * requires DPoP when it or any ancestor has it set (`AgentsService.anyRequiresDpop`).
   */
  @Column('boolean')
  requireDpop: boolean;

  /**
   * CONTRACT §11: `public` clients (a browser or native app such as an MCP client) hold no credentials and
   * authenticate nowhere; they use the authorization-code flow with PKCE. Governed (a strict ancestor sets it).
   */
  @Column('text')
  clientType: OAuthClientType;

  /** Where `GET /auth/authorize` may send the browser back (`redirect-uris.ts`). Governed. */
  @Column('text', { array: true })
  redirectUris: string[];

  @Column('timestamptz')
  createdAt: Date;

  @Column('timestamptz')
  updatedAt: Date;
}

/** The ids in a materialized path, root first, the agent itself last. */
export function idsInPath(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}
