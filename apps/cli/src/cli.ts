import { Command, CommanderError } from 'commander';
import { AgentAuthError, OAuthError, ProblemError } from '@agentauth/sdk';
import { registerAgents } from './commands/agents.js';
import { registerAudit } from './commands/audit.js';
import { registerDelegations } from './commands/delegations.js';
import { registerKeys } from './commands/keys.js';
import { registerLogin } from './commands/login.js';
import { registerPolicies } from './commands/policies.js';
import { registerResourceServers } from './commands/resource-servers.js';
import { registerScopes } from './commands/scopes.js';
import { registerStats } from './commands/stats.js';
import { registerToken } from './commands/token.js';
import { registerWebhooks } from './commands/webhooks.js';
import { CommandFailed, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js';

export const VERSION = '0.1.0';

/** The `agentauth` program: every command group, errors thrown to `run` (exitOverride). */
export function buildProgram(): Command {
  const program = new Command('agentauth')
    .description(
      'Operate an AgentAuth server: agents, keys, delegations, scopes, policies, resource servers, webhooks, tokens, audit',
    )
    .version(VERSION)
    .option('-p, --profile <name>', 'profile in ~/.config/agentauth/config.json (env AGENTAUTH_PROFILE)')
    .option('--url <url>', 'server base URL, overrides the profile (env AGENTAUTH_URL)')
    .option('--json', 'machine-readable JSON output')
    .option('--show-secrets', 'include raw keys, tokens and secrets in --json output')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  registerLogin(program);
  registerAgents(program);
  registerKeys(program);
  registerDelegations(program);
  registerScopes(program);
  registerPolicies(program);
  registerResourceServers(program);
  registerWebhooks(program);
  registerToken(program);
  registerAudit(program);
  registerStats(program);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

/** The lines that explain a failure: the server's detail, its status and request id. */
export function describeError(error: unknown): { message: string; json: Record<string, unknown> } {
  if (error instanceof ProblemError) {
    const { problem } = error;
    const fields = (problem.errors ?? []).map((e) => `  ${e.field ?? ''}: ${e.message ?? JSON.stringify(e)}`);
    return {
      message: [
        `error: ${problem.detail ?? problem.title ?? error.message} (HTTP ${error.status}${error.requestId ? `, request id ${error.requestId}` : ''})`,
        ...fields,
      ].join('\n'),
      json: { ...problem, status: error.status, request_id: error.requestId },
    };
  }
  if (error instanceof OAuthError) {
    return {
      message: `error: ${error.error}${error.errorDescription ? `: ${error.errorDescription}` : ''} (HTTP ${error.status}${error.requestId ? `, request id ${error.requestId}` : ''})`,
      json: {
        error: error.error,
        error_description: error.errorDescription,
        status: error.status,
        request_id: error.requestId,
      },
    };
  }
  if (error instanceof AgentAuthError) {
    return {
      message: `error: ${error.message}${error.requestId ? ` (request id ${error.requestId})` : ''}`,
      json: { error: error.name, message: error.message, status: error.status, request_id: error.requestId },
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message: `error: ${message}`, json: { error: 'failed', message } };
}

/** Runs the CLI; resolves to the exit code: 0 ok, 1 failed, 2 usage. */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message: --help/--version (exit code 0), or a usage mistake (unknown
      // command or option, missing argument or subcommand, bad value).
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      process.stderr.write(
        json
          ? `${JSON.stringify({ error: 'usage', message: error.message })}\n`
          : `error: ${error.message}\n`,
      );
      return EXIT_USAGE;
    }
    if (error instanceof CommandFailed) {
      if (!json) process.stderr.write(`error: ${error.message}\n`);
      return EXIT_FAILED;
    }
    const { message, json: body } = describeError(error);
    process.stderr.write(json ? `${JSON.stringify(body)}\n` : `${message}\n`);
    return EXIT_FAILED;
  }
}
