import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { PolicyConditions, PolicyEffect } from './evaluation/policy.types';

/** One stored policy (CONTRACT §6). Columns are snake_case in the table (SnakeNamingStrategy). */
@Entity({ name: 'policies' })
export class Policy {
  @PrimaryColumn('uuid')
  id: string;

  @Column('uuid')
  rootAgentId: string;

  /** The agent whose authority created it: the policy never reaches beyond this agent's subtree. */
  @Column('uuid')
  ownerAgentId: string;

  @Column('text')
  name: string;

  @Column('text', { nullable: true })
  description: string | null;

  @Column('text')
  effect: PolicyEffect;

  @Column('text', { array: true })
  subjects: string[];

  @Column('text', { array: true })
  actions: string[];

  @Column('text', { array: true })
  resources: string[];

  @Column('jsonb')
  conditions: PolicyConditions;

  @Column('integer')
  priority: number;

  @Column('boolean')
  enabled: boolean;

  /** 1 on create, +1 on every update. */
  @Column('integer')
  version: number;

  @Column('timestamptz')
  createdAt: Date;

  @Column('timestamptz')
  updatedAt: Date;
}
