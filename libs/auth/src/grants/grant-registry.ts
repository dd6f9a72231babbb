import { Inject, Injectable } from '@nestjs/common';
import type { GrantHandler } from './grant-handler';

/** Every grant handler, in the order discovery lists their grant types (provided by `AuthModule`). */
export const GRANT_HANDLERS = Symbol('GRANT_HANDLERS');

@Injectable()
export class GrantRegistry {
  private readonly handlers = new Map<string, GrantHandler>();

  constructor(@Inject(GRANT_HANDLERS) handlers: readonly GrantHandler[]) {
    for (const handler of handlers) this.register(handler);
  }

  private register(handler: GrantHandler): void {
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
