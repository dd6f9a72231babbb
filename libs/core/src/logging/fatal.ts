import * as os from 'node:os';
import { ConfigValidationError, readEnvironment } from '../config/app-config';

/**
 * A start-up failure the operator can fix, with the fix: written as `error` + `fix`, without a stack trace
 * (the stack says nothing the message does not).
 */
export class ActionableStartupError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'ActionableStartupError';
  }
}

/** What a start-up failure line says: the problem, the fix when one is known, the problems of a bad config. */
export interface StartupFailure {
  error: string;
  fix?: string;
  problems?: string[];
}

type Env = Record<string, string | undefined>;

interface SystemError {
  code?: string;
  port?: number;
  address?: string;
  errors?: unknown[];
}

/** The first `code` of an error or of the errors it aggregates (`pg` reports ::1 and 127.0.0.1 together). */
function systemError(error: unknown): SystemError | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as SystemError;
  if (typeof e.code === 'string' && e.code) return e;
  if (Array.isArray(e.errors)) return e.errors.map(systemError).find((s) => s !== undefined);
  return undefined;
}

function portOf(url: string | undefined): number | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.port ? Number(parsed.port) : parsed.protocol.startsWith('redis') ? 6379 : 5432;
  } catch {
    return undefined;
  }
}

/**
 * Turns what made start-up fail into what the operator reads: known causes name their fix (a busy port, a
 * PostgreSQL that is not running, a bad variable); anything else keeps its stack.
 */
export function describeStartupFailure(error: unknown, env: Env = readEnvironment()): StartupFailure {
  if (error instanceof ConfigValidationError) {
    return {
      error: `invalid configuration: ${error.problems.join('; ')}`,
      fix: 'correct the variables named (environment or .env; every variable is listed in .env.example and docs/configuration.md)',
      problems: error.problems,
    };
  }
  if (error instanceof ActionableStartupError) return { error: error.message, fix: error.fix };
  const sys = systemError(error);
  if (sys?.code === 'EADDRINUSE') {
    const port = sys.port ?? env.PORT ?? 8000;
    return {
      error: `port ${port} is already in use (EADDRINUSE): another process listens on it`,
      fix: `stop that process, or set PORT to a free port (e.g. PORT=${Number(port) === 8100 ? 8200 : 8100} make run)`,
    };
  }
  if (
    sys?.code === 'ECONNREFUSED' &&
    env.DATABASE_URL &&
    (!sys.port || sys.port === portOf(env.DATABASE_URL))
  ) {
    const where = (() => {
      try {
        const url = new URL(env.DATABASE_URL);
        return url.host;
      } catch {
        return 'DATABASE_URL';
      }
    })();
    return {
      error: `cannot connect to PostgreSQL at ${where} (ECONNREFUSED): nothing is listening there`,
      fix: 'start PostgreSQL and Redis with `make up`, or unset DATABASE_URL (and REDIS_URL) for the embedded mode',
    };
  }
  return {
    error:
      error instanceof Error
        ? (error.stack ?? error.message)
        : typeof error === 'string'
          ? error
          : String(error),
  };
}

/** The readable form of a failure for a terminal: one line per problem, the fix on its own line. */
export function formatStartupFailureForTerminal(serviceName: string, failure: StartupFailure): string {
  const lines = [`${serviceName} could not start:`];
  if (failure.problems) {
    lines.push('  invalid configuration:', ...failure.problems.map((p) => `    - ${p}`));
  } else {
    lines.push(...failure.error.split('\n').map((l) => `  ${l}`));
  }
  if (failure.fix) lines.push(`  fix: ${failure.fix}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Last-resort start-up failure line, written before (or without) a pino logger, still as one JSON object
 * with the standard fields. On a terminal the same failure follows in readable form (no `\n` escapes).
 */
export function writeFatalStartupError(
  serviceName: string,
  error: unknown,
  stream: { write(text: string): unknown; isTTY?: boolean } = process.stderr,
): void {
  const env = readEnvironment();
  const failure = describeStartupFailure(error, env);
  stream.write(
    `${JSON.stringify({
      level: 'fatal',
      timestamp: new Date().toISOString(),
      service_name: serviceName,
      environment: env.ENVIRONMENT ?? 'development',
      hostname: os.hostname(),
      msg: 'startup failed',
      ...failure,
    })}\n`,
  );
  if (stream.isTTY) stream.write(formatStartupFailureForTerminal(serviceName, failure));
}
