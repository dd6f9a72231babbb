import { type Command, Option } from 'commander';
import { type Schema, unwrap } from '@agentauth/sdk';
import { details, table } from '../output.js';
import { idArgument, isoDate, list, positiveInt, uuid } from '../parse.js';
import { contextOf, looseBody, moreHint } from './common.js';

type Agent = Schema<'AgentResponse'>;
const COLUMNS = ['id', 'name', 'trust_level', 'status', 'depth', 'allowed_scopes'] as const;

function agentDetails(agent: Agent): string {
  return details(agent, [
    'id',
    'name',
    'description',
    'trust_level',
    'status',
    'parent_agent_id',
    'root_agent_id',
    'depth',
    'allowed_scopes',
    'capabilities',
    'client_type',
    'redirect_uris',
    'expires_at',
    'created_at',
    'updated_at',
  ]);
}

interface TreeNode {
  id: string;
  name: string;
  trust_level: string;
  status: string;
  children: TreeNode[];
}

/** Agents as a forest by `parent_agent_id` (roots: agents whose parent is not in the list). */
export function agentTree(agents: Agent[]): TreeNode[] {
  const nodes = new Map<string, TreeNode>();
  for (const a of agents) {
    nodes.set(a.id, { id: a.id, name: a.name, trust_level: a.trust_level, status: a.status, children: [] });
  }
  const roots: TreeNode[] = [];
  for (const a of agents) {
    const parent = a.parent_agent_id ? nodes.get(a.parent_agent_id) : undefined;
    (parent ? parent.children : roots).push(nodes.get(a.id)!);
  }
  return roots;
}

export function renderTree(roots: TreeNode[]): string {
  const lines: string[] = [];
  const walk = (node: TreeNode, prefix: string, last: boolean, top: boolean) => {
    const label = `${node.name} (${node.id}) ${node.trust_level}${node.status === 'active' ? '' : ` [${node.status}]`}`;
    lines.push(top ? label : `${prefix}${last ? '└─ ' : '├─ '}${label}`);
    const childPrefix = top ? '' : `${prefix}${last ? '   ' : '│  '}`;
    node.children.forEach((child, i) => walk(child, childPrefix, i === node.children.length - 1, false));
  };
  roots.forEach((root) => walk(root, '', true, true));
  return lines.join('\n');
}

export function registerAgents(program: Command): void {
  const agents = program.command('agents').description('agents of your tree');

  agents
    .command('ls')
    .description('list agents (your agent and its descendants)')
    .option('--parent <id>', 'only children of this agent', uuid)
    .addOption(
      new Option('--status <status>', 'filter by status').choices(['active', 'suspended', 'deactivated']),
    )
    .option('--limit <n>', 'page size (max 200)', positiveInt)
    .option('--cursor <cursor>', 'the next page')
    .action(
      async (
        opts: { parent?: string; status?: Agent['status']; limit?: number; cursor?: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        const page = await unwrap(
          ctx.management().GET('/api/v1/agents', {
            params: {
              query: {
                parent_agent_id: opts.parent,
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

  agents
    .command('tree')
    .description('your agent and its descendants as a tree')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const all: Agent[] = [];
      let cursor: string | undefined;
      do {
        const page = await unwrap(
          ctx.management().GET('/api/v1/agents', { params: { query: { limit: 200, cursor } } }),
        );
        all.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      const tree = agentTree(all);
      ctx.out.result(tree, () => renderTree(tree));
    });

  agents
    .command('get <id>')
    .description('one agent')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const agent = await unwrap(
        ctx.management().GET('/api/v1/agents/{id}', { params: { path: { id: idArgument(id) } } }),
      );
      ctx.out.result(agent, () => agentDetails(agent));
    });

  agents
    .command('create')
    .description('create an agent under yours (or under --parent)')
    .requiredOption('--name <name>', 'name')
    .option('--description <text>', 'description')
    .option('--parent <id>', 'parent agent (default: your agent)', uuid)
    .addOption(new Option('--trust-level <level>', 'trust level').choices(['delegated', 'ephemeral']))
    .option('--scopes <scopes>', 'allowed scopes (comma or space separated)', list)
    .option('--capabilities <list>', 'capabilities (comma separated)', list)
    .option('--expires-at <date>', 'expiry (ISO 8601; required for ephemeral agents)', isoDate)
    .addOption(
      new Option(
        '--client-type <type>',
        'OAuth client type (public: no credentials, browser approval only)',
      ).choices(['confidential', 'public']),
    )
    .option('--redirect-uris <uris>', 'redirect URIs of the authorization-code flow (comma separated)', list)
    .action(
      async (
        opts: {
          name: string;
          description?: string;
          parent?: string;
          trustLevel?: 'delegated' | 'ephemeral';
          scopes?: string[];
          capabilities?: string[];
          expiresAt?: string;
          clientType?: 'confidential' | 'public';
          redirectUris?: string[];
        },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        const agent = await unwrap(
          ctx.management().POST('/api/v1/agents', {
            body: looseBody({
              name: opts.name,
              description: opts.description,
              parent_agent_id: opts.parent,
              trust_level: opts.trustLevel,
              allowed_scopes: opts.scopes,
              capabilities: opts.capabilities,
              expires_at: opts.expiresAt,
              client_type: opts.clientType,
              redirect_uris: opts.redirectUris,
            }),
          }),
        );
        ctx.out.result(agent, () => `created agent ${agent.id}\n${agentDetails(agent)}`);
      },
    );

  agents
    .command('update <id>')
    .description("change an agent's fields (governed fields only from an ancestor)")
    .option('--name <name>', 'name')
    .option('--description <text>', 'description')
    .option('--scopes <scopes>', 'allowed scopes (replaces the list)', list)
    .option('--capabilities <list>', 'capabilities (replaces the list)', list)
    .option('--expires-at <date>', 'expiry (ISO 8601)', isoDate)
    .addOption(
      new Option(
        '--client-type <type>',
        'OAuth client type (public: no credentials, browser approval only)',
      ).choices(['confidential', 'public']),
    )
    .option(
      '--redirect-uris <uris>',
      'redirect URIs of the authorization-code flow (comma separated; replaces the list)',
      list,
    )
    .action(
      async (
        id: string,
        opts: {
          name?: string;
          description?: string;
          scopes?: string[];
          capabilities?: string[];
          expiresAt?: string;
          clientType?: 'confidential' | 'public';
          redirectUris?: string[];
        },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        const body: Record<string, unknown> = {
          name: opts.name,
          description: opts.description,
          allowed_scopes: opts.scopes,
          capabilities: opts.capabilities,
          expires_at: opts.expiresAt,
          client_type: opts.clientType,
          redirect_uris: opts.redirectUris,
        };
        if (Object.values(body).every((v) => v === undefined)) {
          cmd.error(
            'nothing to update: give at least one of --name, --description, --scopes, --capabilities, --expires-at, --client-type, --redirect-uris',
            {
              exitCode: 2,
              code: 'agentauth.usage',
            },
          );
        }
        const agent = await unwrap(
          ctx.management().PATCH('/api/v1/agents/{id}', {
            params: { path: { id: idArgument(id) } },
            body: looseBody(body),
          }),
        );
        ctx.out.result(agent, () => `updated agent ${agent.id}\n${agentDetails(agent)}`);
      },
    );

  for (const [name, status, verb] of [
    ['suspend', 'suspended', 'suspended'],
    ['activate', 'active', 'activated'],
  ] as const) {
    agents
      .command(`${name} <id>`)
      .description(
        name === 'suspend'
          ? 'suspend an agent: it and its subtree stop authenticating and every token they hold dies'
          : 'lift a suspension (tokens issued before it stay dead)',
      )
      .action(async (id: string, _opts: unknown, cmd: Command) => {
        const ctx = contextOf(cmd);
        const agent = await unwrap(
          ctx
            .management()
            .PATCH('/api/v1/agents/{id}', { params: { path: { id: idArgument(id) } }, body: { status } }),
        );
        ctx.out.result(agent, () => `${verb} agent ${agent.id} (${agent.name})`);
      });
  }

  agents
    .command('delete <id>')
    .description('deactivate an agent and its whole subtree (keys, delegations, tokens revoked)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const result = await unwrap(
        ctx.management().DELETE('/api/v1/agents/{id}', { params: { path: { id: idArgument(id) } } }),
      );
      ctx.out.result(
        result,
        () =>
          `deactivated ${result.deactivated_agent_ids.length} agent(s): ${result.deactivated_agent_ids.join(', ')}`,
      );
    });
}
