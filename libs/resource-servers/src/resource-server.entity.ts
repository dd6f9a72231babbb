import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One registered resource server (CONTRACT §8). Columns are snake_case in the table (SnakeNamingStrategy). */
@Entity({ name: 'resource_servers' })
export class ResourceServer {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  rootAgentId: string;

  /** The agent whose authority registered it (the creating token's `sub`): it and its ancestors manage it. */
  @Column('uuid')
  ownerAgentId: string;

  /** The RFC 8707 resource indicator: the `aud` of its tokens. Unique across the whole server. */
  @Column('text')
  identifier: string;

  @Column('text')
  name: string;

  @Column('text', { nullable: true })
  description: string | null;

  /** Registered scopes of the tree (a final `*` segment allowed) that tokens for this server may carry. */
  @Column('text', { array: true })
  scopes: string[];

  /** The agent the resource server authenticates as (introspection, on-behalf-of token exchange). */
  @Column('uuid', { nullable: true })
  agentId: string | null;

  /** Lifetime of its access tokens (null: ACCESS_TOKEN_EXPIRE_MINUTES); never above the global one. */
  @Column('integer', { nullable: true })
  accessTokenTtlSeconds: number | null;

  /** Every token for it is DPoP-bound (CONTRACT §10): a token request without a proof is refused. */
  @Column('boolean')
  dpopRequired: boolean;

  @Column('timestamptz')
  createdAt: Date;

  @Column('timestamptz')
  updatedAt: Date;
}
