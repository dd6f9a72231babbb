import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One registered scope (CONTRACT §6): a built-in (`rootAgentId` null, global) or a custom scope of one tree. */
@Entity({ name: 'scopes' })
export class Scope {
  @PrimaryColumn('uuid')
  id: string;

  /** Null for a built-in (global) scope. */
  @Column('uuid', { nullable: true })
  rootAgentId: string | null;

  @Column('text')
  name: string;

  @Column('text', { nullable: true })
  description: string | null;

  /** The agent whose authority registered it; null for a built-in. */
  @Column('uuid', { nullable: true })
  createdBy: string | null;

  @Column('timestamptz')
  createdAt: Date;
}
