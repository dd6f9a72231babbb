import type { Command } from 'commander';
import { type Schema, unwrap } from '@agentauth/sdk';
import { details, table } from '../output.js';
import { idArgument, list, positiveInt, uuid } from '../parse.js';
import { contextOf, looseBody, moreHint } from './common.js';

type ResourceServer = Schema<'ResourceServerResponse'>;
const COLUMNS = ['id', 'identifier', 'name', 'scopes', 'agent_id', 'dpop_required'] as const;

interface ResourceServerOptions {
  name?: string;
  description?: string;
  scopes?: string[];
  agentId?: string;
  accessTokenTtl?: number;
  dpopRequired?: boolean;
}

/** The request body of create/update: only the fields given. */
function bodyOf(opts: ResourceServerOptions): Record<string, unknown> {
  return {
    name: opts.name,
    description: opts.description,
    scopes: opts.scopes,
    agent_id: opts.agentId,
    access_token_ttl_seconds: opts.accessTokenTtl,
    dpop_required: opts.dpopRequired,
  };
}

function show(server: ResourceServer): string {
  return details(server);
}

export function registerResourceServers(program: Command): void {
  const servers = program
    .command('resource-servers')
    .description('APIs that accept AgentAuth tokens (a token for one: resource=<identifier>)');

  servers
    .command('ls')
    .description('list the resource servers of your tree')
    .option('--limit <n>', 'page size (max 200)', positiveInt)
    .option('--cursor <cursor>', 'the next page')
    .action(async (opts: { limit?: number; cursor?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const page = await unwrap(
        ctx.management().GET('/api/v1/resource-servers', {
          params: { query: { limit: opts.limit, cursor: opts.cursor } },
        }),
      );
      ctx.out.result(page, () => table(page.items, [...COLUMNS]) + moreHint(page.next_cursor));
    });

  servers
    .command('create <identifier>')
    .description('register a resource server: its identifier (an absolute URI) becomes the aud of its tokens')
    .requiredOption('--name <name>', 'name')
    .requiredOption(
      '--scopes <scopes>',
      'custom scopes of the tree its tokens may carry (a final * allowed)',
      list,
    )
    .option('--description <text>', 'description')
    .option('--agent-id <id>', 'the agent the server authenticates as (introspection, token exchange)', uuid)
    .option('--access-token-ttl <seconds>', 'lifetime of its access tokens in seconds', positiveInt)
    .option('--dpop-required', 'tokens for it only with a DPoP proof')
    .action(async (identifier: string, opts: ResourceServerOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const created = await unwrap(
        ctx.management().POST('/api/v1/resource-servers', {
          body: looseBody({ identifier, ...bodyOf(opts) }),
        }),
      );
      ctx.out.result(created, () => `registered resource server ${created.id}\n${show(created)}`);
    });

  servers
    .command('get <id>')
    .description('one resource server')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const server = await unwrap(
        ctx.management().GET('/api/v1/resource-servers/{id}', { params: { path: { id: idArgument(id) } } }),
      );
      ctx.out.result(server, () => show(server));
    });

  servers
    .command('update <id>')
    .description('change a resource server (its identifier never changes)')
    .option('--name <name>', 'name')
    .option('--description <text>', 'description')
    .option('--scopes <scopes>', 'scopes (replaces the list)', list)
    .option('--agent-id <id>', 'the agent the server authenticates as', uuid)
    .option('--access-token-ttl <seconds>', 'lifetime of its access tokens in seconds', positiveInt)
    .option('--dpop-required', 'tokens for it only with a DPoP proof')
    .option('--no-dpop-required', 'tokens for it without a DPoP proof too')
    .action(async (id: string, opts: ResourceServerOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = bodyOf(opts);
      if (Object.values(body).every((v) => v === undefined)) {
        cmd.error(
          'nothing to update: give at least one of --name, --description, --scopes, --agent-id, --access-token-ttl, --[no-]dpop-required',
          { exitCode: 2, code: 'agentauth.usage' },
        );
      }
      const server = await unwrap(
        ctx.management().PATCH('/api/v1/resource-servers/{id}', {
          params: { path: { id: idArgument(id) } },
          body: looseBody(body),
        }),
      );
      ctx.out.result(server, () => `updated resource server ${server.id}\n${show(server)}`);
    });

  servers
    .command('delete <id>')
    .description('delete a resource server (its outstanding tokens are revoked)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await unwrap(
        ctx
          .management()
          .DELETE('/api/v1/resource-servers/{id}', { params: { path: { id: idArgument(id) } } }),
      );
      ctx.out.result({ id, deleted: true }, () => `deleted resource server ${id}`);
    });
}
