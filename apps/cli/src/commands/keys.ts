import { type Command, Option } from 'commander';
import { type Schema, unwrap } from '@agentauth/sdk';
import { details, redact, table } from '../output.js';
import { idArgument, isoDate, list, nonNegativeInt, positiveInt, publicJwkFile, uuid } from '../parse.js';
import { contextOf, looseBody, moreHint } from './common.js';

type Credential = Schema<'CredentialResponse'>;
const COLUMNS = [
  'id',
  'agent_id',
  'type',
  'name',
  'masked_key',
  'kid',
  'status',
  'scopes',
  'expires_at',
] as const;

/** The raw API key line (a public-key credential has none). */
function shownOnce(apiKey: string | undefined): string[] {
  return apiKey === undefined ? [] : [`api key (shown once, store it now): ${apiKey}`];
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description("agents' API keys");

  keys
    .command('ls')
    .description('list API keys (prefix and masked form only)')
    .option('--agent <id>', 'keys of this agent', uuid)
    .addOption(new Option('--status <status>', 'filter by status').choices(['active', 'revoked', 'expired']))
    .option('--limit <n>', 'page size (max 200)', positiveInt)
    .option('--cursor <cursor>', 'the next page')
    .action(
      async (
        opts: { agent?: string; status?: Credential['status']; limit?: number; cursor?: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        const page = await unwrap(
          ctx.management().GET('/api/v1/credentials', {
            params: {
              query: { agent_id: opts.agent, status: opts.status, limit: opts.limit, cursor: opts.cursor },
            },
          }),
        );
        ctx.out.result(page, () => table(page.items, [...COLUMNS]) + moreHint(page.next_cursor));
      },
    );

  keys
    .command('create')
    .description(
      'issue an API key (the raw key is shown once), or with --jwk register a public key for private_key_jwt',
    )
    .option('--agent <id>', 'for this agent (default: your agent)', uuid)
    .option('--name <name>', 'name')
    .option('--scopes <scopes>', "scopes (default: all of the agent's)", list)
    .option('--expires-at <date>', 'expiry (ISO 8601)', isoDate)
    .option(
      '--jwk <file>',
      'a public JWK (JSON file, - for stdin): a public_key credential instead of an API key',
    )
    .action(
      async (
        opts: { agent?: string; name?: string; scopes?: string[]; expiresAt?: string; jwk?: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        const jwk = opts.jwk === undefined ? undefined : publicJwkFile(opts.jwk);
        const issued = await unwrap(
          ctx.management().POST('/api/v1/credentials', {
            body: looseBody({
              ...(jwk ? { type: 'public_key', jwk } : {}),
              agent_id: opts.agent,
              name: opts.name,
              scopes: opts.scopes,
              expires_at: opts.expiresAt,
            }),
          }),
        );
        ctx.out.result(redact(issued, ['api_key'], ctx.out.showSecrets), () =>
          [
            issued.type === 'public_key'
              ? `registered public key ${issued.id} for agent ${issued.agent_id} (kid ${issued.kid}, alg ${issued.alg})`
              : `created key ${issued.id} for agent ${issued.agent_id}`,
            ...shownOnce(issued.api_key),
          ].join('\n'),
        );
      },
    );

  keys
    .command('rotate <id>')
    .description('replace a key; the old one keeps working for --grace seconds')
    .option('--grace <seconds>', 'grace period of the old key in seconds', nonNegativeInt, 0)
    .option('--jwk <file>', 'a public key credential: the new public JWK (JSON file, - for stdin)')
    .action(async (id: string, opts: { grace: number; jwk?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const credentialId = idArgument(id);
      const jwk = opts.jwk === undefined ? undefined : publicJwkFile(opts.jwk);
      const rotated = await unwrap(
        ctx.management().POST('/api/v1/credentials/{id}/rotate', {
          params: { path: { id: credentialId } },
          body: { grace_period_seconds: opts.grace, ...(jwk ? { jwk } : {}) },
        }),
      );
      ctx.out.result(redact(rotated, ['api_key'], ctx.out.showSecrets), () =>
        [
          `rotated key ${rotated.previous.id} → ${rotated.id}` +
            (rotated.previous.grace_until ? ` (old key valid until ${rotated.previous.grace_until})` : ''),
          ...shownOnce(rotated.api_key),
        ].join('\n'),
      );
    });

  keys
    .command('revoke <id>')
    .description('revoke a key now (tokens minted with it die too)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const revoked = await unwrap(
        ctx.management().DELETE('/api/v1/credentials/{id}', { params: { path: { id: idArgument(id) } } }),
      );
      ctx.out.result(revoked, () =>
        revoked && typeof revoked === 'object'
          ? `revoked key ${id}\n${details(revoked, ['id', 'status', 'revoked_at'])}`
          : `revoked key ${id}`,
      );
    });
}
