import { Column, Entity, PrimaryColumn } from 'typeorm';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

/** One attempt of a delivery, as kept in `attempt_log`. */
export interface DeliveryAttempt {
  attempt: number;
  attempted_at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** One event for one webhook (unique per webhook and event), with its attempts. */
@Entity('webhook_deliveries')
export class WebhookDelivery {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  webhookId: string;

  @Column('uuid')
  rootAgentId: string;

  @Column('uuid')
  eventId: string;

  @Column('text')
  eventType: string;

  /** The exact JSON body POSTed (identical for every attempt; the signature covers it). */
  @Column('text')
  body: string;

  @Column('text')
  status: DeliveryStatus;

  @Column('int')
  attempts: number;

  @Column({ type: 'int', nullable: true })
  lastStatusCode: number | null;

  @Column({ type: 'text', nullable: true })
  lastError: string | null;

  @Column('jsonb')
  attemptLog: DeliveryAttempt[];

  @Column({ type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;

  @Column('timestamptz')
  createdAt: Date;

  @Column('timestamptz')
  updatedAt: Date;
}
