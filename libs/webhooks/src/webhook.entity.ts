import { Column, Entity, PrimaryColumn } from 'typeorm';

export type WebhookStatus = 'active' | 'deleted';

/**
 * A subscription to some event types, owned by the agent whose token created it (`ownerAgentId`, the
 * token's `sub`): visible to and managed by the owner and its ancestors, and told only about events of the
 * owner's subtree (CONTRACT §7). Deleting is soft: deliveries keep their webhook.
 */
@Entity('webhooks')
export class Webhook {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  rootAgentId: string;

  @Column({ type: 'uuid', nullable: true })
  createdByAgentId: string | null;

  @Column('uuid')
  ownerAgentId: string;

  @Column('text')
  url: string;

  @Column('text', { array: true })
  events: string[];

  @Column({ type: 'text', nullable: true })
  description: string | null;

  /** AES-256-GCM (`v1.<iv>.<ct>.<tag>`) of the signing secret; never returned after creation. */
  @Column('text')
  secretEncrypted: string;

  @Column('text')
  status: WebhookStatus;

  @Column('timestamptz')
  createdAt: Date;

  @Column('timestamptz')
  updatedAt: Date;

  @Column({ type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
