import { type Command, Option } from 'commander';
import { type Schema, unwrap } from '@agentauth/sdk';
import { details, redact, table } from '../output.js';
import { duration, idArgument, isoDate, list, nonNegativeInt, positiveInt, uuid } from '../parse.js';
import { contextOf, moreHint } from './common.js';

type Delegation = Schema<'DelegationResponse'>;
const COLUMNS = [
  'id',
  'delegator_agent_id',
  'delegate_agent_id',
  'scopes',
  'status',
  'depth',
  'expires_at',
] as const;

export function registerDelegations(program: Command): void {
  const delegations = program.command('delegations').description('delegations of authority between agents');

  delegations
    .command('ls')
    .description('list delegations you can see')
    .option('--delegate <id>', 'delegations to this agent', uuid)
    .option('--delegator <id>', 'delegations from this agent', uuid)
    .addOption(new Option('--status <status>', 'filter by status').choices(['active', 'revoked']))
    .option('--limit <n>', 'page size (max 200)', positiveInt)
    .option('--cursor <cursor>', 'the next page')
    .action(
      async (
        opts: {
          delegate?: string;
          delegator?: string;
          status?: Delegation['status'];
          limit?: number;
          cursor?: string;
        },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        const page = await unwrap(
          ctx.management().GET('/api/v1/delegations', {
            params: {
              query: {
                delegate_agent_id: opts.delegate,
                delegator_agent_id: opts.delegator,
                status: opts.status,
                limit: opts.limit,
                cursor: opts.cursor,
              },
            },
          }),
        );
        ctx.out.result(page, () => table(page.items, [...COLUMNS]) + moreHint(page.next_cursor));
      },
    );

  delegations
    .command('create')
    .description('delegate scopes to another agent of your tree (prints the delegation token once)')
    .requiredOption('--to <agent-id>', 'the delegate', uuid)
    .requiredOption('--scopes <scopes>', 'scopes to delegate', list)
    .option('--expires-in <duration>', 'lifetime, e.g. 30m, 2h, 7d', duration)
    .option('--expires-at <date>', 'expiry (ISO 8601)', isoDate)
    .option('--max-depth <n>', 'how many times it may be re-delegated', nonNegativeInt)
    .option('--parent <delegation-id>', 're-delegate this delegation of yours', uuid)
    .action(
      async (
        opts: {
          to: string;
          scopes: string[];
          expiresIn?: number;
          expiresAt?: string;
          maxDepth?: number;
          parent?: string;
        },
        cmd: Command,
      ) => {
        if ((opts.expiresIn === undefined) === (opts.expiresAt === undefined)) {
          cmd.error('give exactly one of --expires-in and --expires-at', {
            exitCode: 2,
            code: 'agentauth.usage',
          });
        }
        const ctx = contextOf(cmd);
        const expiresAt = opts.expiresAt ?? new Date(Date.now() + opts.expiresIn! * 1000).toISOString();
        const created = await unwrap(
          ctx.management().POST('/api/v1/delegations', {
            body: {
              delegate_agent_id: opts.to,
              scopes: opts.scopes,
              expires_at: expiresAt,
              max_depth: opts.maxDepth,
              parent_delegation_id: opts.parent,
            },
          }),
        );
        ctx.out.result(redact(created, ['delegation_token'], ctx.out.showSecrets), () =>
          [
            `created delegation ${created.id} to ${created.delegate_agent_id} (${created.scopes.join(' ')}) until ${created.expires_at}`,
            `delegation token (shown once, give it to the delegate): ${created.delegation_token}`,
          ].join('\n'),
        );
      },
    );

  delegations
    .command('chain <id>')
    .description('the chain from the first delegator to this delegation, with the effective scopes')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const chain = await unwrap(
        ctx.management().GET('/api/v1/delegations/{id}/chain', { params: { path: { id: idArgument(id) } } }),
      );
      ctx.out.result(chain, () =>
        [
          details(chain, [
            'delegation_id',
            'valid',
            'invalid_reason',
            'effective_scopes',
            'original_delegator_id',
            'expires_at',
          ]),
          '',
          table(chain.chain, ['depth', 'id', 'delegator_agent_id', 'delegate_agent_id', 'scopes', 'status']),
        ].join('\n'),
      );
    });

  delegations
    .command('revoke <id>')
    .description('revoke a delegation and everything minted from it')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const result = await unwrap(
        ctx.management().DELETE('/api/v1/delegations/{id}', { params: { path: { id: idArgument(id) } } }),
      );
      ctx.out.result(
        result,
        () =>
          `revoked ${result.revoked_delegation_ids.length} delegation(s): ${result.revoked_delegation_ids.join(', ')}`,
      );
    });
}
