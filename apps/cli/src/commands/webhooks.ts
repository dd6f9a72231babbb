import type { Command } from 'commander';
import { unwrap } from '@agentauth/sdk';
import { details, redact, table } from '../output.js';
import { idArgument, list, positiveInt } from '../parse.js';
import { contextOf, looseBody, moreHint } from './common.js';

const COLUMNS = ['id', 'url', 'events', 'status', 'created_at'] as const;

export function registerWebhooks(program: Command): void {
  const webhooks = program.command('webhooks').description('security-event webhooks');

  webhooks
    .command('ls')
    .description('list webhooks')
    .option('--limit <n>', 'page size (max 200)', positiveInt)
    .option('--cursor <cursor>', 'the next page')
    .action(async (opts: { limit?: number; cursor?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const page = await unwrap(
        ctx
          .management()
          .GET('/api/v1/webhooks', { params: { query: { limit: opts.limit, cursor: opts.cursor } } }),
      );
      ctx.out.result(page, () => table(page.items, [...COLUMNS]) + moreHint(page.next_cursor));
    });

  webhooks
    .command('create <url>')
    .description('subscribe an https endpoint to events (the signing secret is shown once)')
    .requiredOption('--events <types>', 'event types, or * for all', list)
    .option('--description <text>', 'description')
    .action(async (url: string, opts: { events: string[]; description?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const created = await unwrap(
        ctx.management().POST('/api/v1/webhooks', {
          body: looseBody({ url, events: opts.events, description: opts.description }),
        }),
      );
      ctx.out.result(redact(created, ['secret'], ctx.out.showSecrets), () =>
        [
          `created webhook ${created.id} → ${created.url}`,
          `signing secret (shown once, store it now): ${created.secret}`,
        ].join('\n'),
      );
    });

  webhooks
    .command('get <id>')
    .description('one webhook')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const webhook = await unwrap(
        ctx.management().GET('/api/v1/webhooks/{id}', { params: { path: { id: idArgument(id) } } }),
      );
      ctx.out.result(webhook, () => details(webhook));
    });

  webhooks
    .command('deliveries <id>')
    .description('recent delivery attempts of a webhook')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const deliveries = await unwrap(
        ctx
          .management()
          .GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id: idArgument(id) } } }),
      );
      ctx.out.result(deliveries, () =>
        deliveries.items.length === 0
          ? 'no deliveries'
          : table(deliveries.items, [
              'id',
              'event_type',
              'status',
              'attempts',
              'last_status_code',
              'created_at',
            ]),
      );
    });

  webhooks
    .command('delete <id>')
    .description('delete a webhook')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await unwrap(
        ctx.management().DELETE('/api/v1/webhooks/{id}', { params: { path: { id: idArgument(id) } } }),
      );
      ctx.out.result({ id, deleted: true }, () => `deleted webhook ${id}`);
    });
}
