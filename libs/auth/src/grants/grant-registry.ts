import { Injectable } from '@nestjs/common';
import type { GrantHandler } from './grant-handler';

@Injectable()
export class GrantRegistry {
  private readonly handlers = new Map<string, GrantHandler>();

  register(handler: GrantHandler): void {
    for (const type of handler.grantTypes) {
      if (this.handlers.has(type)) throw new Error(`grant type ${type} registered twice`);
      this.handlers.set(type, handler);
    }
  }

  find(grantType: string): GrantHandler | undefined {
    return this.handlers.get(grantType);
  }

  /** For discovery: every registered grant type. */
  grantTypes(): string[] {
    return [...this.handlers.keys()];
  }
}
