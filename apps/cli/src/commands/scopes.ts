import type { Command } from 'commander';
import { unwrap } from '@agentauth/sdk';
import { details, table } from '../output.js';
import { positiveInt } from '../parse.js';
import { contextOf, looseBody, moreHint } from './common.js';

export function registerScopes(program: Command): void {
  const scopes = program.command('scopes').description('built-in and custom scopes');

  scopes
    .command('ls')
    .description("list the built-in scopes and your tree's custom ones")
    .option('--limit <n>', 'page size (max 200)', positiveInt)
    .option('--cursor <cursor>', 'the next page')
    .action(async (opts: { limit?: number; cursor?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const page = await unwrap(
        ctx
          .management()
          .GET('/api/v1/scopes', { params: { query: { limit: opts.limit, cursor: opts.cursor } } }),
      );
      ctx.out.result(
        page,
        () => table(page.items, ['name', 'built_in', 'description']) + moreHint(page.next_cursor),
      );
    });

  scopes
    .command('create <name>')
    .description('register a custom scope for your tree (e.g. files:read)')
    .option('--description <text>', 'what it allows')
    .action(async (name: string, opts: { description?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const scope = await unwrap(
        ctx.management().POST('/api/v1/scopes', { body: looseBody({ name, description: opts.description }) }),
      );
      ctx.out.result(scope, () => `created scope ${scope.name}\n${details(scope)}`);
    });
}
