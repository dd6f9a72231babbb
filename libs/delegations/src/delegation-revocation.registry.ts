import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * What other contexts do when delegations are revoked (explicitly with their descendants, or by an agent
 * deactivation): called INSIDE the revoking transaction with its `EntityManager`, after the rows were
 * revoked and their `delegation` markers written, so whatever a hook writes commits or rolls back with the
 * revocation. The token side (AuthModule) registers here to revoke the refresh families minted from the
 * delegations — the registry lets it do so without DelegationsModule importing AuthModule (no cycle).
 */
export interface DelegationRevocationHooks {
  onRevoked(manager: EntityManager, delegationIds: string[], at: Date): Promise<void>;
}

@Injectable()
export class DelegationRevocationRegistry {
  private readonly hooks = new Map<string, DelegationRevocationHooks>();

  register(name: string, hooks: DelegationRevocationHooks): void {
    if (this.hooks.has(name))
      throw new Error(`DelegationRevocationRegistry: "${name}" is already registered`);
    this.hooks.set(name, hooks);
  }

  /** The names registered so far (the apps' boot check compares them with what the process needs). */
  registered(): string[] {
    return [...this.hooks.keys()];
  }

  async revoked(manager: EntityManager, delegationIds: string[], at: Date): Promise<void> {
    if (delegationIds.length === 0) return;
    for (const hooks of this.hooks.values()) await hooks.onRevoked(manager, delegationIds, at);
  }
}
