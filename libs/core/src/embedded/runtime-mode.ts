import * as path from 'node:path';
import { type AppConfig, DEFAULT_EMBEDDED_DATA_DIR } from '../config/app-config';

/** Which backends this process uses, chosen once from the config: the embedded parts replace the unset URLs. */
export interface RuntimeMode {
  /** PGlite in this process (`DATABASE_URL` unset). */
  embeddedDatabase: boolean;
  /** In-process Redis adapter (`REDIS_URL` unset). */
  inProcessRedis: boolean;
  /** Jobs run in this process on timers, no BullMQ/worker (either URL unset: a worker needs both). */
  inProcessJobs: boolean;
}

export function runtimeModeOf(config: AppConfig): RuntimeMode {
  return {
    embeddedDatabase: !config.databaseUrl,
    inProcessRedis: !config.redisUrl,
    inProcessJobs: !config.databaseUrl || !config.redisUrl,
  };
}

/** host[:port][/db] of a URL, never its credentials. */
function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname.length > 1 ? parsed.pathname : ''}`;
  } catch {
    return '(unparsable URL)';
  }
}

function shortPath(dir: string, cwd: string): string {
  const relative = path.relative(cwd, dir);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? `./${relative}` : dir;
}

/**
 * The embedded data directory as an operator deletes it to start over: `./.agentauth` for the default
 * `./.agentauth/pgdata` (the folder `make run` creates), else the configured directory, relative when inside
 * the working directory.
 */
export function embeddedDataDirForDisplay(dataDir: string, cwd = process.cwd()): string {
  const shown = shortPath(dataDir, cwd);
  return shown === DEFAULT_EMBEDDED_DATA_DIR ? path.dirname(DEFAULT_EMBEDDED_DATA_DIR) : shown;
}

/**
 * The one start-up line: the mode, where data lives, and where the API and its docs are. No credentials.
 * e.g. "AgentAuth running in embedded mode: PostgreSQL (PGlite) at ./.agentauth/pgdata, in-process Redis;
 * API http://localhost:8000/api/v1, docs http://localhost:8000/docs"
 */
export function describeRuntimeMode(config: AppConfig, cwd = process.cwd()): string {
  const mode = runtimeModeOf(config);
  const database = config.databaseUrl
    ? `PostgreSQL at ${hostOf(config.databaseUrl)}`
    : `PostgreSQL (PGlite) ${config.embeddedDataDir ? `at ${shortPath(config.embeddedDataDir, cwd)}` : 'in memory (nothing is kept)'}`;
  const redis = `${config.redisUrl ? `Redis at ${hostOf(config.redisUrl)}` : 'in-process Redis'}${mode.inProcessJobs ? ' and jobs' : ''}`;
  const name =
    mode.embeddedDatabase && mode.inProcessRedis
      ? 'embedded mode'
      : !mode.embeddedDatabase && !mode.inProcessRedis
        ? 'PostgreSQL/Redis mode'
        : 'mixed mode';
  return `AgentAuth running in ${name}: ${database}, ${redis}; API ${config.publicBaseUrl}${config.apiPrefix}, docs ${config.publicBaseUrl}/docs`;
}
