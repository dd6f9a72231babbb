import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import pino from 'pino';
import { DEFAULT_DATABASE_APP_ROLE } from '../database/app-role';
import { isValidCidr } from '../net/ip';

/** The example secrets shipped in `.env.example`: refused in production. */
export const EXAMPLE_SECRETS = ['your-secret-key-here', 'your-admin-api-key-here'];

export type Environment = 'development' | 'test' | 'staging' | 'production';

/** pino's level names (`trace` … `fatal`) plus `silent`: the values LOG_LEVEL accepts. */
export const LOG_LEVELS: readonly string[] = [...Object.keys(pino.levels.values), 'silent'];

/**
 * OWASP's argon2id minimum (Password Storage Cheat Sheet: m=19 MiB, t=2, p=1). The defaults; production
 * refuses anything cheaper (tests and development may go lower to keep hashing fast).
 */
export const ARGON2_PRODUCTION_MINIMUM = { memoryKib: 19456, timeCost: 2, parallelism: 1 } as const;

/**
 * Typed, validated configuration. Built once at start-up from the environment (and `.env`,
 * whose values never override the real environment). Nothing outside `core` reads `process.env`.
 */
export interface AppConfig {
  appName: string;
  environment: Environment;
  debug: boolean;
  port: number;
  host: string;
  publicBaseUrl: string;
  apiPrefix: string;
  /** `undefined` when unset: the embedded mode takes over (PGlite in the API process, docs/dev-mode.md). */
  databaseUrl: string | undefined;
  /** Role the API switches to after connecting (least privilege); empty = connect as-is. */
  databaseAppRole: string;
  databasePoolSize: number;
  /** `undefined` when unset: the in-process Redis adapter and in-process jobs take over (docs/dev-mode.md). */
  redisUrl: string | undefined;
  redisKeyPrefix: string;
  /** Embedded mode: where PGlite keeps its data (absolute path); `undefined` = in memory (nothing persisted). */
  embeddedDataDir: string | undefined;
  secretKey: string;
  adminApiKey: string;
  accessTokenExpireMinutes: number;
  refreshTokenExpireDays: number;
  corsOrigins: string[] | '*';
  bodyLimitBytes: number;
  logLevel: string;
  trustProxyCidrs: string[];
  bootstrapToken: string | undefined;
  bootstrapOpen: boolean;
  rateLimitAgentPerMinute: number;
  rateLimitIpPerMinute: number;
  bootstrapRateLimitPerHour: number;
  argon2MemoryKib: number;
  argon2TimeCost: number;
  argon2Parallelism: number;
  maxCredentialGraceSeconds: number;
  maxEphemeralLifetimeSeconds: number;
  /** Upper bound of a delegation's lifetime (its token keeps the signing key in JWKS until it expires). */
  maxDelegationLifetimeSeconds: number;
  jwksMaxAgeSeconds: number;
  keyRotationDays: number;
  webhookAllowPrivateTargets: boolean;
  /** Attempts per webhook delivery (the first one included) before it is marked failed. */
  webhookMaxAttempts: number;
  /** Exponential backoff base of webhook retries: attempt n+1 waits base × 2^(n-1). */
  webhookRetryBaseDelayMs: number;
  /** Whole-request timeout of one webhook delivery attempt. */
  webhookTimeoutMs: number;
  /** Period of the worker's `maintenance` job. */
  maintenanceIntervalSeconds: number;
  /** BullMQ job lock: a job whose worker stops renewing it for this long is stalled (worker killed). */
  workerLockDurationMs: number;
  /** How often a worker looks for stalled jobs to put back in the queue. */
  workerStalledIntervalMs: number;
  metricsToken: string | undefined;
  /** API processes sharing the port through node:cluster (1 = no cluster). */
  apiWorkers: number;
}

export class ConfigValidationError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigValidationError';
  }
}

type Env = Record<string, string | undefined>;

/** Reads `.env` from the working directory (if any) under the real environment. */
export function readEnvironment(env: Env = process.env, cwd = process.cwd()): Env {
  const file = path.join(cwd, '.env');
  const fromFile = fs.existsSync(file) ? parseDotenv(fs.readFileSync(file)) : {};
  return { ...fromFile, ...env };
}

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^-?\d+$/.test(value)) {
      this.problems.push(`${name} must be an integer (got "${value}")`);
      return fallback;
    }
    const n = Number(value);
    if (n < min || n > max) this.problems.push(`${name} must be between ${min} and ${max} (got ${n})`);
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name} must be true or false (got "${value}")`);
    return fallback;
  }

  url(name: string, protocols: string[]): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        this.problems.push(`${name} must use ${protocols.join(' or ')} (got ${parsed.protocol})`);
      }
    } catch {
      this.problems.push(`${name} is not a valid URL`);
    }
    return value;
  }

  oneOf(name: string, allowed: readonly string[], fallback: string): string {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!allowed.includes(value)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
      return fallback;
    }
    return value;
  }

  list(name: string): string[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (value.startsWith('[')) {
      try {
        const parsed: unknown = JSON.parse(value);
        if (Array.isArray(parsed) && parsed.every((v) => typeof v === 'string')) return parsed;
      } catch {
        /* reported below */
      }
      this.problems.push(`${name} must be a JSON array of strings or a comma-separated list`);
      return [];
    }
    return value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
  }
}

const ENVIRONMENTS: Environment[] = ['development', 'test', 'staging', 'production'];

/** Default data directory of the embedded PostgreSQL, relative to the working directory. */
export const DEFAULT_EMBEDDED_DATA_DIR = './.agentauth/pgdata';

export function loadConfig(env: Env = readEnvironment(), cwd = process.cwd()): AppConfig {
  const r = new Reader(env);
  const environment = r.string('ENVIRONMENT', 'development') as Environment;
  if (!ENVIRONMENTS.includes(environment)) {
    r.problems.push(`ENVIRONMENT must be one of ${ENVIRONMENTS.join(', ')} (got "${environment}")`);
  }
  const port = r.int('PORT', 8000, 0, 65535);
  const apiPrefix = r.string('API_V1_PREFIX', '/api/v1');
  if (!/^\/[A-Za-z0-9/_-]*[A-Za-z0-9_-]$/.test(apiPrefix)) {
    r.problems.push(`API_V1_PREFIX must start with "/" and not end with "/" (got "${apiPrefix}")`);
  }
  const publicBaseUrl = (r.url('PUBLIC_BASE_URL', ['http:', 'https:']) ?? `http://localhost:${port}`).replace(
    /\/+$/,
    '',
  );
  if (r.raw('PUBLIC_BASE_URL') && new URL(publicBaseUrl).pathname !== '/') {
    r.problems.push('PUBLIC_BASE_URL must have no path (it is the token issuer)');
  }
  const secretKey = r.raw('SECRET_KEY') ?? '';
  const adminApiKey = r.raw('ADMIN_API_KEY') ?? '';
  const isProduction = environment === 'production';
  for (const [name, value] of [
    ['SECRET_KEY', secretKey],
    ['ADMIN_API_KEY', adminApiKey],
  ] as const) {
    if (!value) {
      r.problems.push(`${name} is required`);
    } else if (isProduction && EXAMPLE_SECRETS.includes(value)) {
      r.problems.push(`${name} still has the example value from .env.example; set a real secret`);
    } else if (isProduction && value.length < 32) {
      r.problems.push(`${name} must be at least 32 characters in production`);
    }
  }
  const corsList = r.list('CORS_ORIGINS');
  const corsOrigins = !corsList || corsList.includes('*') ? '*' : corsList;
  const trustProxyCidrs = r.list('TRUST_PROXY_CIDRS') ?? [];
  const invalidCidrs = trustProxyCidrs.filter((cidr) => !isValidCidr(cidr));
  if (invalidCidrs.length)
    r.problems.push(`TRUST_PROXY_CIDRS has invalid entries: ${invalidCidrs.join(', ')}`);
  const debug = r.bool('DEBUG', false);
  const config: AppConfig = {
    appName: r.string('APP_NAME', 'AgentAuth'),
    environment,
    debug,
    port,
    host: r.string('HOST', '0.0.0.0'),
    publicBaseUrl,
    apiPrefix,
    databaseUrl: r.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    databaseAppRole: r.string('DATABASE_APP_ROLE', DEFAULT_DATABASE_APP_ROLE),
    databasePoolSize: r.int('DATABASE_POOL_SIZE', 10, 1, 200),
    redisUrl: r.url('REDIS_URL', ['redis:', 'rediss:']),
    redisKeyPrefix: r.string('REDIS_KEY_PREFIX', 'aa:'),
    embeddedDataDir: r.bool('AGENTAUTH_EMBEDDED_MEMORY', false)
      ? undefined
      : path.resolve(cwd, r.string('AGENTAUTH_EMBEDDED_DATA_DIR', DEFAULT_EMBEDDED_DATA_DIR)),
    secretKey,
    adminApiKey,
    accessTokenExpireMinutes: r.int('ACCESS_TOKEN_EXPIRE_MINUTES', 15, 1, 24 * 60),
    refreshTokenExpireDays: r.int('REFRESH_TOKEN_EXPIRE_DAYS', 7, 1, 365),
    corsOrigins,
    bodyLimitBytes: r.int('BODY_LIMIT_BYTES', 100 * 1024, 1024, 10 * 1024 * 1024),
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, debug ? 'debug' : 'info'),
    trustProxyCidrs,
    bootstrapToken: r.raw('BOOTSTRAP_TOKEN'),
    bootstrapOpen: r.bool('BOOTSTRAP_OPEN', !isProduction),
    rateLimitAgentPerMinute: r.int('RATE_LIMIT_AGENT_PER_MINUTE', 600, 1, 10_000_000),
    rateLimitIpPerMinute: r.int('RATE_LIMIT_IP_PER_MINUTE', 120, 1, 10_000_000),
    bootstrapRateLimitPerHour: r.int('BOOTSTRAP_RATE_LIMIT_PER_HOUR', 20, 1, 10_000_000),
    argon2MemoryKib: r.int('ARGON2_MEMORY_KIB', ARGON2_PRODUCTION_MINIMUM.memoryKib, 1024, 1024 * 1024),
    argon2TimeCost: r.int('ARGON2_TIME_COST', ARGON2_PRODUCTION_MINIMUM.timeCost, 1, 10),
    argon2Parallelism: r.int('ARGON2_PARALLELISM', ARGON2_PRODUCTION_MINIMUM.parallelism, 1, 16),
    maxCredentialGraceSeconds: r.int('MAX_CREDENTIAL_GRACE_SECONDS', 7 * 24 * 3600, 0, 90 * 24 * 3600),
    maxEphemeralLifetimeSeconds: r.int('MAX_EPHEMERAL_LIFETIME_SECONDS', 24 * 3600, 60, 30 * 24 * 3600),
    maxDelegationLifetimeSeconds: r.int(
      'MAX_DELEGATION_LIFETIME_SECONDS',
      30 * 24 * 3600,
      60,
      365 * 24 * 3600,
    ),
    jwksMaxAgeSeconds: r.int('JWKS_MAX_AGE_SECONDS', 300, 0, 86400),
    keyRotationDays: r.int('KEY_ROTATION_DAYS', 30, 1, 3650),
    webhookAllowPrivateTargets: r.bool('WEBHOOK_ALLOW_PRIVATE_TARGETS', false),
    webhookMaxAttempts: r.int('WEBHOOK_MAX_ATTEMPTS', 8, 1, 20),
    webhookRetryBaseDelayMs: r.int('WEBHOOK_RETRY_BASE_DELAY_MS', 60_000, 10, 3_600_000),
    webhookTimeoutMs: r.int('WEBHOOK_TIMEOUT_MS', 5000, 100, 60_000),
    maintenanceIntervalSeconds: r.int('MAINTENANCE_INTERVAL_SECONDS', 300, 10, 86_400),
    workerLockDurationMs: r.int('WORKER_LOCK_DURATION_MS', 30_000, 1000, 600_000),
    workerStalledIntervalMs: r.int('WORKER_STALLED_INTERVAL_MS', 30_000, 500, 600_000),
    metricsToken: r.raw('METRICS_TOKEN'),
    apiWorkers: r.int('API_WORKERS', 1, 1, 64),
  };
  if (isProduction && (!config.databaseUrl || !config.redisUrl)) {
    r.problems.push(
      'DATABASE_URL and REDIS_URL are required in production (the embedded mode — PGlite and in-process Redis — is for development only; docs/dev-mode.md)',
    );
  }
  if (!config.databaseUrl && config.apiWorkers > 1) {
    r.problems.push('API_WORKERS must be 1 in the embedded mode (DATABASE_URL unset): it is one process');
  }
  if (isProduction) {
    // (ARGON2_PARALLELISM's range already starts at OWASP's p=1.)
    for (const [name, value, minimum] of [
      ['ARGON2_MEMORY_KIB', config.argon2MemoryKib, ARGON2_PRODUCTION_MINIMUM.memoryKib],
      ['ARGON2_TIME_COST', config.argon2TimeCost, ARGON2_PRODUCTION_MINIMUM.timeCost],
    ] as const) {
      if (value < minimum) {
        r.problems.push(
          `${name} must be at least ${minimum} in production (OWASP's argon2id minimum is m=19456 KiB, t=2, p=1; got ${value})`,
        );
      }
    }
  }
  if (isProduction && config.webhookAllowPrivateTargets) {
    r.problems.push('WEBHOOK_ALLOW_PRIVATE_TARGETS must not be true in production');
  }
  if (r.problems.length > 0) throw new ConfigValidationError(r.problems);
  return Object.freeze(config);
}

/**
 * Warnings for a start outside tests (production refuses these values outright): the example secrets of
 * `.env.example` are public, so anyone can call the admin API or decrypt the signing keys with them.
 */
export function exampleSecretWarnings(config: AppConfig): string[] {
  if (config.environment === 'test') return [];
  const warnings: string[] = [];
  if (EXAMPLE_SECRETS.includes(config.adminApiKey)) {
    warnings.push(
      'ADMIN_API_KEY is the example value from .env.example (the development admin key): fine on this machine, anywhere else set a real secret of 32+ characters',
    );
  }
  if (EXAMPLE_SECRETS.includes(config.secretKey)) {
    warnings.push(
      'SECRET_KEY is the example value from .env.example: fine on this machine, anywhere else set a real secret of 32+ characters before the first start (it encrypts the signing keys)',
    );
  }
  return warnings;
}

/**
 * The database URLs alone, for tools that run before the app's secrets matter (migrations, setup):
 * `MIGRATIONS_DATABASE_URL` (the owner) falls back to `DATABASE_URL`.
 */
export function databaseUrlsFromEnvironment(env: Env = readEnvironment()): {
  databaseUrl: string | undefined;
  migrationsDatabaseUrl: string | undefined;
} {
  const r = new Reader(env);
  const databaseUrl = r.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const migrationsDatabaseUrl = r.url('MIGRATIONS_DATABASE_URL', ['postgres:', 'postgresql:']) ?? databaseUrl;
  if (r.problems.length > 0) throw new ConfigValidationError(r.problems);
  return { databaseUrl, migrationsDatabaseUrl };
}

/** DI token for the one `AppConfig` instance. */
export const APP_CONFIG = Symbol('APP_CONFIG');
