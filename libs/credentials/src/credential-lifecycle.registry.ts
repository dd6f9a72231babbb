import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export interface CredentialLifecycleHooks {
  /**
   * Credentials revoked (explicitly, or by an agent deactivation cascade), inside the transaction that
   * revoked them. Tokens minted with them must become inactive (CONTRACT §3).
   */
  onRevoked?(manager: EntityManager, credentialIds: string[], at: Date): Promise<void>;
  /**
   * A credential was rotated, inside the rotating transaction: it keeps working until `graceUntil`
   * (exclusive; `at` when there is no grace). Anything that remembers the key as valid (the verified-key
   * cache) must stop trusting that memory.
   */
  onRotated?(manager: EntityManager, rotation: CredentialRotation, at: Date): Promise<void>;
}

export interface CredentialRotation {
  credentialId: string;
  agentId: string;
  graceUntil: Date;
}

/** Where later modules (tokens) plug into credential revocation and rotation without a dependency cycle. */
@Injectable()
export class CredentialLifecycleRegistry {
  private readonly hooks = new Map<string, CredentialLifecycleHooks>();

  register(name: string, hooks: CredentialLifecycleHooks): void {
    if (this.hooks.has(name)) throw new Error(`CredentialLifecycleRegistry: "${name}" is already registered`);
    this.hooks.set(name, hooks);
  }

  /** The names registered so far (the apps' boot check compares them with what the process needs). */
  registered(): string[] {
    return [...this.hooks.keys()];
  }

  async revoked(manager: EntityManager, credentialIds: string[], at: Date): Promise<void> {
    if (credentialIds.length === 0) return;
    for (const hooks of this.hooks.values()) await hooks.onRevoked?.(manager, credentialIds, at);
  }

  async rotated(manager: EntityManager, rotation: CredentialRotation, at: Date): Promise<void> {
    for (const hooks of this.hooks.values()) await hooks.onRotated?.(manager, rotation, at);
  }
}
