import { type Command, Option } from 'commander';
import { type Schema, unwrap } from '@agentauth/sdk';
import { details, table } from '../output.js';
import { json, list, positiveInt, uuid } from '../parse.js';
import { contextOf, looseBody, moreHint } from './common.js';

type Policy = Schema<'PolicyResponse'>;
const COLUMNS = ['id', 'name', 'effect', 'priority', 'enabled', 'subjects', 'actions', 'resources'] as const;

export function registerPolicies(program: Command): void {
  const policies = program.command('policies').description('allow/deny policies (deny overrides)');

  policies
    .command('ls')
    .description('list the policies you own or can see')
    .addOption(new Option('--effect <effect>', 'filter by effect').choices(['allow', 'deny']))
    .option('--limit <n>', 'page size (max 200)', positiveInt)
    .option('--cursor <cursor>', 'the next page')
    .action(async (opts: { effect?: Policy['effect']; limit?: number; cursor?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const page = await unwrap(
        ctx.management().GET('/api/v1/policies', {
          params: { query: { effect: opts.effect, limit: opts.limit, cursor: opts.cursor } },
        }),
      );
      ctx.out.result(page, () => table(page.items, [...COLUMNS]) + moreHint(page.next_cursor));
    });

  policies
    .command('create')
    .description('create a policy')
    .requiredOption('--name <name>', 'name')
    .addOption(
      new Option('--effect <effect>', 'allow or deny').choices(['allow', 'deny']).makeOptionMandatory(),
    )
    .requiredOption('--actions <globs>', 'actions (scopes) it matches, e.g. files:*', list)
    .option('--subjects <subjects>', 'agent ids, agent:<id>/*, trust_level:<level> or * (default *)', list)
    .option('--resources <globs>', 'resources it matches (default *)', list)
    .option('--priority <n>', 'priority', positiveInt)
    .option('--description <text>', 'description')
    .option(
      '--conditions <json>',
      'conditions as JSON: {"ip_cidrs":[…],"time_window":{…},"max_delegation_depth":n}',
      json,
    )
    .option('--disabled', 'create it disabled')
    .action(
      async (
        opts: {
          name: string;
          effect: Policy['effect'];
          actions: string[];
          subjects?: string[];
          resources?: string[];
          priority?: number;
          description?: string;
          conditions?: Record<string, unknown>;
          disabled?: boolean;
        },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        const policy = await unwrap(
          ctx.management().POST('/api/v1/policies', {
            body: looseBody({
              name: opts.name,
              effect: opts.effect,
              actions: opts.actions,
              subjects: opts.subjects ?? ['*'],
              resources: opts.resources ?? ['*'],
              priority: opts.priority,
              description: opts.description,
              conditions: opts.conditions,
              enabled: opts.disabled ? false : undefined,
            }),
          }),
        );
        ctx.out.result(policy, () => `created policy ${policy.id}\n${details(policy)}`);
      },
    );

  policies
    .command('evaluate')
    .description('what the policy engine decides for an agent, an action and a resource')
    .requiredOption('--agent <id>', 'the agent', uuid)
    .requiredOption('--action <scope>', 'the action (a scope)')
    .option('--resource <resource>', 'the resource')
    .option('--ip <ip>', 'client IP for ip_cidrs conditions')
    .option('--time <date>', 'instant for time_window conditions (ISO 8601)')
    .action(
      async (
        opts: { agent: string; action: string; resource?: string; ip?: string; time?: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        const context = opts.ip || opts.time ? { ip: opts.ip, time: opts.time } : undefined;
        const decision = await unwrap(
          ctx.management().POST('/api/v1/policies/evaluate', {
            body: looseBody({ agent_id: opts.agent, action: opts.action, resource: opts.resource, context }),
          }),
        );
        ctx.out.result(decision, () =>
          [
            `${decision.decision.toUpperCase()} (${decision.reason}) ${decision.action} on ${decision.resource} for ${decision.agent_id}`,
            decision.matched_policies.length > 0
              ? table(decision.matched_policies, ['id', 'name', 'effect'])
              : '',
          ]
            .filter(Boolean)
            .join('\n'),
        );
      },
    );
}
