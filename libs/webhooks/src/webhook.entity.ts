import { Column, Entity, PrimaryColumn } from 'typeorm';

export type WebhookStatus = 'active' | 'deleted';

/** A subscription of one root tree to some event types. Deleting is soft: deliveries keep their webhook. */
@Entity('webhooks')
export class Webhook {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  rootAgentId: string;

  @Column({ type: 'uuid', nullable: true })
  createdByAgentId: string | null;

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
