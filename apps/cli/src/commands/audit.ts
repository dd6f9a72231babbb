import type { Command } from 'commander';
import { unwrap } from '@agentauth/sdk';
import { type AuditEvent, verifyChain } from '../audit-chain.js';
import type { Context } from '../context.js';
import { CommandFailed } from '../errors.js';
import { table } from '../output.js';
import { positiveInt, uuid } from '../parse.js';
import { contextOf } from './common.js';

const COLUMNS = [
  'seq',
  'occurred_at',
  'event_type',
  'outcome',
  'actor_agent_id',
  'target_type',
  'target_id',
  'request_id',
] as const;

interface TailOptions {
  lines: number;
  eventType?: string;
  agent?: string;
  follow?: boolean;
  interval: number;
}

/** The newest events matching the filters, newest first, at most `limit`. */
async function newest(ctx: Context, options: TailOptions, limit: number): Promise<AuditEvent[]> {
  const page = await unwrap(
    ctx.admin().GET('/api/v1/audit/events', {
      params: { query: { limit, event_type: options.eventType, agent_id: options.agent } },
    }),
  );
  return page.items;
}

function print(ctx: Context, events: AuditEvent[], withHeader: boolean): void {
  if (events.length === 0) return;
  if (ctx.out.json) {
    for (const event of events) process.stdout.write(`${JSON.stringify(event)}\n`);
    return;
  }
  const text = table(events, [...COLUMNS]);
  process.stdout.write(`${withHeader ? text : text.split('\n').slice(1).join('\n')}\n`);
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the audit trail (needs the admin key)');

  audit
    .command('tail')
    .description(
      'the latest audit events, oldest first; --follow keeps printing new ones (JSON lines with --json)',
    )
    .option('-n, --lines <n>', 'how many events', positiveInt, 20)
    .option('--event-type <type>', 'only this event type')
    .option('--agent <id>', 'only events about this agent', uuid)
    .option('-f, --follow', 'keep polling for new events until interrupted')
    .option('--interval <seconds>', 'polling interval with --follow', positiveInt, 2)
    .action(async (opts: TailOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const first = (await newest(ctx, opts, Math.min(opts.lines, 200))).reverse();
      print(ctx, first, true);
      if (!opts.follow) return;
      let lastSeq = first.length > 0 ? first[first.length - 1].seq : 0;
      if (first.length === 0)
        lastSeq = (await newest(ctx, { ...opts, eventType: undefined, agent: undefined }, 1))[0]?.seq ?? 0;
      let headerShown = first.length > 0;
      let stopped = false;
      const stop = () => {
        stopped = true;
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      while (!stopped) {
        await new Promise((resolve) => setTimeout(resolve, opts.interval * 1000));
        if (stopped) break;
        const fresh = (await newest(ctx, opts, 200)).filter((e) => e.seq > lastSeq).reverse();
        if (fresh.length > 0) {
          print(ctx, fresh, !headerShown);
          headerShown = true;
          lastSeq = fresh[fresh.length - 1].seq;
        }
      }
    });

  audit
    .command('verify')
    .description('walk the whole hash chain through the API and check every link (exit 1 if broken)')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const events: AuditEvent[] = [];
      let cursor: string | undefined;
      do {
        const page = await unwrap(
          ctx.admin().GET('/api/v1/audit/events', { params: { query: { limit: 200, cursor } } }),
        );
        events.push(...(page.items as AuditEvent[]));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      events.sort((a, b) => a.seq - b.seq);
      const result = verifyChain(events);
      if (result.valid) {
        ctx.out.result(
          result,
          () =>
            `audit chain valid: ${result.checked} events, last seq ${result.last_seq} hash ${result.last_hash}`,
        );
        return;
      }
      ctx.out.result(result, () => `audit chain BROKEN at seq ${result.first_broken_seq} (${result.reason})`);
      throw new CommandFailed(`audit chain broken at seq ${result.first_broken_seq} (${result.reason})`);
    });
}
