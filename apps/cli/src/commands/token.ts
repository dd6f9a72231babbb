import * as fs from 'node:fs';
import type { Command } from 'commander';
import { redact, details } from '../output.js';
import { UsageError } from '../errors.js';
import { contextOf } from './common.js';

/** The token argument, or stdin when it is `-`. */
function tokenArgument(value: string): string {
  const token = value === '-' ? fs.readFileSync(0, 'utf8').trim() : value.trim();
  if (!token) throw new UsageError('no token given');
  return token;
}

function decodePart(part: string | undefined, what: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new UsageError(`not a JWT: its ${what} is not base64url JSON`);
}

/** Header and claims of a JWT, without verifying it. */
export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
} {
  const parts = token.split('.');
  if (parts.length !== 3) throw new UsageError('not a JWT: expected three dot-separated parts');
  return { header: decodePart(parts[0], 'header'), claims: decodePart(parts[1], 'payload') };
}

function instant(seconds: unknown): string | undefined {
  return typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : undefined;
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('access tokens');

  token
    .command('get')
    .description("an access token for the profile's agent (client_credentials)")
    .option('--scope <scopes>', 'scopes to ask for (space or comma separated)')
    .option('--resource <uri>', 'RFC 8707 resource the token is for')
    .action(async (opts: { scope?: string; resource?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const set = await ctx
        .agent()
        .clientCredentials({ scope: opts.scope?.split(/[\s,]+/), resource: opts.resource });
      const view = {
        access_token: set.accessToken,
        token_type: set.tokenType,
        scope: set.scope,
        expires_at: new Date(set.expiresAt).toISOString(),
      };
      // Human mode prints the bare token (for `$(agentauth token get)`); --json hides it unless asked.
      ctx.out.result(redact(view, ['access_token'], ctx.out.showSecrets), () => set.accessToken);
    });

  token
    .command('decode <token>')
    .description('show the header and claims of a JWT without verifying it (- reads stdin)')
    .action(async (value: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const decoded = decodeJwt(tokenArgument(value));
      ctx.out.result(decoded, () =>
        [
          details(decoded.header),
          '',
          details({
            ...decoded.claims,
            iat: instant(decoded.claims.iat) ?? decoded.claims.iat,
            nbf: instant(decoded.claims.nbf) ?? decoded.claims.nbf,
            exp: instant(decoded.claims.exp) ?? decoded.claims.exp,
          }),
        ].join('\n'),
      );
    });

  token
    .command('introspect <token>')
    .description("is the token active, and its claims (the profile's agent needs tokens:introspect)")
    .action(async (value: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const answer = await ctx.agent().introspect(tokenArgument(value));
      ctx.out.result(answer, () => (answer.active ? details(answer) : 'active  false'));
    });

  token
    .command('revoke <token>')
    .description('revoke an access or refresh token (RFC 7009)')
    .option('--hint <type>', 'access_token or refresh_token')
    .action(async (value: string, opts: { hint?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (opts.hint !== undefined && opts.hint !== 'access_token' && opts.hint !== 'refresh_token') {
        throw new UsageError('--hint must be access_token or refresh_token');
      }
      await ctx.agent().revoke(tokenArgument(value), opts.hint);
      ctx.out.result({ revoked: true }, () => 'revoked');
    });
}
