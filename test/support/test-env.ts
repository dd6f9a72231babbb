/** Where the test suite finds PostgreSQL and Redis, and how it names its per-run, per-worker state. */
export const TEST_DB_PREFIX = 'agentauth_t_';

export function adminUrl(): string {
  return process.env.TEST_PG_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
}

export function redisUrl(): string {
  return process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
}

/** The jest main process's pid: unique among runs alive on this machine. */
export function runId(): string {
  return process.env.AGENTAUTH_TEST_RUN_ID ?? String(process.pid);
}

export function workerId(): string {
  return process.env.JEST_WORKER_ID ?? '1';
}

export function databaseName(suffix: string): string {
  return `${TEST_DB_PREFIX}${runId()}_${suffix}`;
}

export function databaseUrl(suffix: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${databaseName(suffix)}`;
  return url.toString();
}

export function redisKeyPrefix(): string {
  return `aa:test:${runId()}:${workerId()}:`;
}

/**
 * `url` logging in as the API's least-privilege role instead of the superuser — how production connects.
 * Global setup lets the role log in (trust authentication here, so no password).
 */
export function appRoleLoginUrl(url: string, role = 'agentauth_app'): string {
  const login = new URL(url);
  login.username = role;
  login.password = '';
  return login.toString();
}

/**
 * Config overrides that make a test app a production one: logged in as the app role (production refuses a
 * superuser/owner login), bootstrap closed, and the default (OWASP-minimum) argon2 cost, which production
 * requires instead of the tests' cheap one.
 */
export function productionOverrides(): Record<string, string | undefined> {
  return {
    ENVIRONMENT: 'production',
    BOOTSTRAP_OPEN: undefined,
    ARGON2_MEMORY_KIB: undefined,
    ARGON2_TIME_COST: undefined,
    DATABASE_URL: appRoleLoginUrl(process.env.DATABASE_URL as string),
  };
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
