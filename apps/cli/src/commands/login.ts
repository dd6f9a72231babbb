import type { Command } from 'commander';
import { AgentAuthClient, createManagementClient, unwrap } from '@agentauth/sdk';
import { configPath, readConfig, writeConfig, type Profile } from '../config.js';
import { UsageError } from '../errors.js';
import { details } from '../output.js';
import type { GlobalOptions } from '../context.js';
import { contextOf } from './common.js';

interface LoginOptions {
  clientId?: string;
  clientSecret?: string;
  adminKey?: string;
  use?: boolean;
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description(
      'check credentials against a server and save them as a profile (~/.config/agentauth/config.json, mode 0600); ' +
        'secrets may come from AGENTAUTH_CLIENT_SECRET / AGENTAUTH_ADMIN_KEY instead of flags',
    )
    .option('--client-id <agent-id>', 'the agent id')
    .option('--client-secret <api-key>', "the agent's API key")
    .option('--admin-key <key>', 'the admin key (for audit and stats)')
    .option('--no-use', 'do not make this the current profile')
    .action(async (opts: LoginOptions, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const ctx = contextOf(cmd);
      const name = globals.profile ?? process.env.AGENTAUTH_PROFILE ?? 'default';
      const file = configPath();
      const config = readConfig(file);
      const previous: Partial<Profile> = config.profiles[name] ?? {};
      const url = (globals.url ?? process.env.AGENTAUTH_URL ?? previous.url)?.replace(/\/+$/, '');
      if (!url) throw new UsageError('login needs --url <server base URL> (or AGENTAUTH_URL)');
      const profile: Profile = {
        url,
        client_id: opts.clientId ?? process.env.AGENTAUTH_CLIENT_ID ?? previous.client_id,
        client_secret: opts.clientSecret ?? process.env.AGENTAUTH_CLIENT_SECRET ?? previous.client_secret,
        admin_key: opts.adminKey ?? process.env.AGENTAUTH_ADMIN_KEY ?? previous.admin_key,
      };
      if (!profile.admin_key && !(profile.client_id && profile.client_secret)) {
        throw new UsageError('login needs --client-id and --client-secret, or --admin-key');
      }
      if (Boolean(profile.client_id) !== Boolean(profile.client_secret)) {
        throw new UsageError('--client-id and --client-secret go together');
      }

      const checked: Record<string, unknown> = { profile: name, url };
      if (profile.client_id && profile.client_secret) {
        const agent = new AgentAuthClient({
          issuer: url,
          clientId: profile.client_id,
          clientSecret: profile.client_secret,
        });
        const token = await agent.clientCredentials();
        checked.agent_id = profile.client_id;
        checked.scopes = token.scope;
      }
      if (profile.admin_key) {
        await unwrap(
          createManagementClient({ baseUrl: url, adminKey: profile.admin_key }).GET('/api/v1/stats'),
        );
        checked.admin = true;
      }
      config.profiles[name] = profile;
      if (opts.use !== false || !config.current) config.current = name;
      writeConfig(config, file);
      checked.config = file;
      checked.current = config.current === name;
      ctx.out.result(checked, () => `logged in (${file})\n${details(checked)}`);
    });
}
