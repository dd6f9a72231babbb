import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * What other contexts do when a resource server is deleted: called INSIDE the deleting transaction (after
 * the row was deleted and its `resource_server` revocation marker written), so whatever a hook writes
 * commits or rolls back with the deletion. The token side (AuthModule) registers here to revoke the refresh
 * families bound to the server, without ResourceServersModule importing AuthModule (no cycle).
 */
export interface ResourceServerDeletionHooks {
  onDeleted(manager: EntityManager, resourceServerId: string, at: Date): Promise<void>;
}

@Injectable()
export class ResourceServerDeletionRegistry {
  private readonly hooks = new Map<string, ResourceServerDeletionHooks>();

  register(name: string, hooks: ResourceServerDeletionHooks): void {
    if (this.hooks.has(name))
      throw new Error(`ResourceServerDeletionRegistry: "${name}" is already registered`);
    this.hooks.set(name, hooks);
  }

  /** The names registered so far (the apps' boot check compares them with what the process needs). */
  registered(): string[] {
    return [...this.hooks.keys()];
  }

  async deleted(manager: EntityManager, resourceServerId: string, at: Date): Promise<void> {
    for (const hooks of this.hooks.values()) await hooks.onDeleted(manager, resourceServerId, at);
  }
}
