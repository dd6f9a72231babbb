import { ConfigValidationError, loadConfig } from '@agentauth/core';

const valid = {
  SECRET_KEY: 'a-development-secret',
  ADMIN_API_KEY: 'an-admin-key',
};

/** Production refuses the embedded mode: these make the other production rules testable on their own. */
const backends = {
  DATABASE_URL: 'postgresql://agentauth@db.internal:5432/agentauth',
  REDIS_URL: 'redis://cache.internal:6379/0',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(valid);
    expect(config).toMatchObject({
      appName: 'AgentAuth',
      environment: 'development',
      port: 8000,
      apiPrefix: '/api/v1',
      publicBaseUrl: 'http://localhost:8000',
      accessTokenExpireMinutes: 15,
      refreshTokenExpireDays: 7,
      corsOrigins: '*',
      rateLimitAgentPerMinute: 600,
      rateLimitIpPerMinute: 120,
      bootstrapRateLimitPerHour: 20,
      databaseUrl: undefined,
      redisUrl: undefined,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('requires SECRET_KEY and ADMIN_API_KEY', () => {
    expect(problemsOf({})).toEqual(['SECRET_KEY is required', 'ADMIN_API_KEY is required']);
  });

  it('refuses the example secrets in production', () => {
    const problems = problemsOf({
      ...backends,
      ENVIRONMENT: 'production',
      SECRET_KEY: 'your-secret-key-here',
      ADMIN_API_KEY: 'your-admin-api-key-here',
    });
    expect(problems).toEqual([
      'SECRET_KEY still has the example value from .env.example; set a real secret',
      'ADMIN_API_KEY still has the example value from .env.example; set a real secret',
    ]);
  });

  it('refuses secrets shorter than 32 characters in production only', () => {
    expect(problemsOf({ ...valid, ...backends, ENVIRONMENT: 'production' })).toEqual([
      'SECRET_KEY must be at least 32 characters in production',
      'ADMIN_API_KEY must be at least 32 characters in production',
    ]);
    expect(problemsOf(valid)).toEqual([]);
    const long = 'x'.repeat(32);
    expect(
      problemsOf({ ...backends, ENVIRONMENT: 'production', SECRET_KEY: long, ADMIN_API_KEY: `${long}y` }),
    ).toEqual([]);
  });

  it('refuses the embedded mode in production: DATABASE_URL and REDIS_URL are required there', () => {
    const long = 'x'.repeat(32);
    const prod = { ENVIRONMENT: 'production', SECRET_KEY: long, ADMIN_API_KEY: `${long}y` };
    const refusal = expect.stringContaining('DATABASE_URL and REDIS_URL are required in production');
    expect(problemsOf(prod)).toEqual([refusal]);
    expect(problemsOf({ ...prod, DATABASE_URL: backends.DATABASE_URL })).toEqual([refusal]);
    expect(problemsOf({ ...prod, REDIS_URL: backends.REDIS_URL })).toEqual([refusal]);
    expect(problemsOf({ ...prod, ...backends })).toEqual([]);
    // outside production, unset URLs select the embedded mode
    expect(problemsOf(valid)).toEqual([]);
  });

  it('keeps embedded data under ./.agentauth/pgdata unless moved or kept in memory', () => {
    expect(loadConfig(valid, '/srv/app').embeddedDataDir).toBe('/srv/app/.agentauth/pgdata');
    expect(loadConfig({ ...valid, AGENTAUTH_EMBEDDED_DATA_DIR: '/var/aa' }, '/srv/app').embeddedDataDir).toBe(
      '/var/aa',
    );
    expect(loadConfig({ ...valid, AGENTAUTH_EMBEDDED_DATA_DIR: 'data' }, '/srv/app').embeddedDataDir).toBe(
      '/srv/app/data',
    );
    expect(loadConfig({ ...valid, AGENTAUTH_EMBEDDED_MEMORY: 'true' }).embeddedDataDir).toBeUndefined();
  });

  it('explains malformed values precisely', () => {
    expect(
      problemsOf({
        ...valid,
        PORT: 'eighty',
        ACCESS_TOKEN_EXPIRE_MINUTES: '0',
        DATABASE_URL: 'mysql://x@y/z',
        REDIS_URL: 'not a url',
        DEBUG: 'maybe',
        ENVIRONMENT: 'prod',
      }).sort(),
    ).toEqual(
      [
        'ENVIRONMENT must be one of development, test, staging, production (got "prod")',
        'PORT must be an integer (got "eighty")',
        'DATABASE_URL must use postgres: or postgresql: (got mysql:)',
        'REDIS_URL is not a valid URL',
        'DEBUG must be true or false (got "maybe")',
        'ACCESS_TOKEN_EXPIRE_MINUTES must be between 1 and 1440 (got 0)',
      ].sort(),
    );
    expect(problemsOf({ ...valid, TRUST_PROXY_CIDRS: '10.0.0.0/8,bogus' })).toEqual([
      'TRUST_PROXY_CIDRS has invalid entries: bogus',
    ]);
  });

  it("accepts pino's level names as LOG_LEVEL and refuses anything else with the list", () => {
    for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']) {
      expect(loadConfig({ ...valid, LOG_LEVEL: level }).logLevel).toBe(level);
    }
    expect(loadConfig(valid).logLevel).toBe('info');
    expect(loadConfig({ ...valid, DEBUG: 'true' }).logLevel).toBe('debug');
    for (const level of ['verbose', 'INFO', 'warning', '30']) {
      expect(problemsOf({ ...valid, LOG_LEVEL: level })).toEqual([
        `LOG_LEVEL must be one of trace, debug, info, warn, error, fatal, silent (got "${level}")`,
      ]);
    }
  });

  it("refuses argon2 parameters below OWASP's minimum (m=19456, t=2, p=1) in production only", () => {
    const long = 'x'.repeat(32);
    const prod = { ...backends, ENVIRONMENT: 'production', SECRET_KEY: long, ADMIN_API_KEY: `${long}y` };
    const cheap = { ARGON2_MEMORY_KIB: '19455', ARGON2_TIME_COST: '1' };
    expect(problemsOf({ ...prod, ...cheap })).toEqual([
      "ARGON2_MEMORY_KIB must be at least 19456 in production (OWASP's argon2id minimum is m=19456 KiB, t=2, p=1; got 19455)",
      "ARGON2_TIME_COST must be at least 2 in production (OWASP's argon2id minimum is m=19456 KiB, t=2, p=1; got 1)",
    ]);
    expect(loadConfig(prod)).toMatchObject({
      argon2MemoryKib: 19456,
      argon2TimeCost: 2,
      argon2Parallelism: 1,
    });
    expect(problemsOf({ ...prod, ARGON2_MEMORY_KIB: '65536', ARGON2_TIME_COST: '3' })).toEqual([]);
    // Outside production cheaper hashing is allowed (the test suite uses it to stay fast).
    for (const environment of ['development', 'test', 'staging']) {
      expect(problemsOf({ ...valid, ...cheap, ENVIRONMENT: environment })).toEqual([]);
    }
  });

  it('accepts CORS_ORIGINS as the seed JSON array or a comma list', () => {
    expect(loadConfig({ ...valid, CORS_ORIGINS: '["*"]' }).corsOrigins).toBe('*');
    expect(
      loadConfig({ ...valid, CORS_ORIGINS: '["https://a.example","https://b.example"]' }).corsOrigins,
    ).toEqual(['https://a.example', 'https://b.example']);
    expect(
      loadConfig({ ...valid, CORS_ORIGINS: 'https://a.example, https://b.example' }).corsOrigins,
    ).toEqual(['https://a.example', 'https://b.example']);
    expect(problemsOf({ ...valid, CORS_ORIGINS: '[1,2]' })).toEqual([
      'CORS_ORIGINS must be a JSON array of strings or a comma-separated list',
    ]);
  });

  it('keeps the issuer free of a path and trailing slash', () => {
    expect(loadConfig({ ...valid, PUBLIC_BASE_URL: 'https://auth.example.com/' }).publicBaseUrl).toBe(
      'https://auth.example.com',
    );
    expect(problemsOf({ ...valid, PUBLIC_BASE_URL: 'https://auth.example.com/base' })).toEqual([
      'PUBLIC_BASE_URL must have no path (it is the token issuer)',
    ]);
  });
});
