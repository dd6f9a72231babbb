import type { Command } from 'commander';
import { Context, type GlobalOptions } from '../context.js';

/** The context of the command being run (its options merged with the global ones). */
export function contextOf(command: Command): Context {
  return new Context(command.optsWithGlobals<GlobalOptions>());
}

/** `next page: --cursor …` when a list has more. */
export function moreHint(nextCursor: string | null | undefined): string {
  return nextCursor ? `\n(more: --cursor ${nextCursor})` : '';
}

/**
 * Some request DTOs are described loosely by the server's OpenAPI document (a nullable string appears as an
 * object): those bodies are built here and passed through this one cast.
 */
export function looseBody(body: Record<string, unknown>): never {
  return body as never;
}
