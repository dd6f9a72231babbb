import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from './errors.js';

/** One server and the credentials to use it with. */
export interface Profile {
  url: string;
  client_id?: string;
  client_secret?: string;
  admin_key?: string;
}

export interface ConfigFile {
  current?: string;
  profiles: Record<string, Profile>;
}

/** `$XDG_CONFIG_HOME/agentauth/config.json`, else `~/.config/agentauth/config.json`. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME)
      ? env.XDG_CONFIG_HOME
      : path.join(os.homedir(), '.config');
  return path.join(base, 'agentauth', 'config.json');
}

export function readConfig(file = configPath()): ConfigFile {
  if (!fs.existsSync(file)) return { profiles: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new UsageError(`${file} is not valid JSON: fix or remove it, then run \`agentauth login\``);
  }
  const config = parsed as ConfigFile;
  if (
    !config ||
    typeof config !== 'object' ||
    typeof config.profiles !== 'object' ||
    config.profiles === null
  ) {
    throw new UsageError(`${file} has no profiles: run \`agentauth login\``);
  }
  return config;
}

/** Writes the config readable by its owner only: directory 0700, file 0600 (it holds API keys). */
export function writeConfig(config: ConfigFile, file = configPath()): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.chmodSync(path.dirname(file), 0o700);
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(temporary, 0o600);
  fs.renameSync(temporary, file);
}

export interface ProfileOverrides {
  profile?: string;
  url?: string;
}

/** The resolved settings: flags, then AGENTAUTH_* environment variables, then the profile. */
export interface ResolvedProfile extends Profile {
  name: string;
}

export function resolveProfile(
  overrides: ProfileOverrides,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedProfile {
  const config = readConfig(configPath(env));
  const name = overrides.profile ?? env.AGENTAUTH_PROFILE ?? config.current ?? 'default';
  const stored: Partial<Profile> = config.profiles[name] ?? {};
  const url = overrides.url ?? env.AGENTAUTH_URL ?? stored.url;
  if (!url) {
    throw new UsageError(
      `no server configured for profile "${name}": run \`agentauth login --url <url> …\` or set AGENTAUTH_URL`,
    );
  }
  return {
    name,
    url: url.replace(/\/+$/, ''),
    client_id: env.AGENTAUTH_CLIENT_ID ?? stored.client_id,
    client_secret: env.AGENTAUTH_CLIENT_SECRET ?? stored.client_secret,
    admin_key: env.AGENTAUTH_ADMIN_KEY ?? stored.admin_key,
  };
}
