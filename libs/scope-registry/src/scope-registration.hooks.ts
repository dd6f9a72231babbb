import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** A custom scope that was just registered in a tree (inside the registering transaction). */
export interface ScopeRegisteredEvent {
  rootAgentId: string;
  scope: string;
  at: Date;
}

export type ScopeRegisteredHook = (manager: EntityManager, event: ScopeRegisteredEvent) => Promise<void>;

/**
 * Where other contexts react to a scope registration without this module depending on them (agents and
 * credentials import the registry, so it cannot import them): register in `onModuleInit`. Every hook runs
 * INSIDE the registering transaction, in registration order; a hook that throws aborts the registration.
 */
@Injectable()
export class ScopeRegistrationHooks {
  private readonly hooks = new Map<string, ScopeRegisteredHook>();

  register(name: string, hook: ScopeRegisteredHook): void {
    if (this.hooks.has(name)) throw new Error(`ScopeRegistrationHooks: "${name}" is already registered`);
    this.hooks.set(name, hook);
  }

  /** The names registered so far (the apps' boot check compares them with what the process needs). */
  registered(): string[] {
    return [...this.hooks.keys()];
  }

  async scopeRegistered(manager: EntityManager, event: ScopeRegisteredEvent): Promise<void> {
    for (const hook of this.hooks.values()) await hook(manager, event);
  }
}
