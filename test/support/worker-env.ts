// Runs before each integration test file, inside its module registry: the environment of this jest worker.
import { setLogDestination } from '@agentauth/core';
import { embeddedDatabaseUrl, embeddedTestMode } from './embedded-test-env';
import { logCapture } from './log-capture';
import { databaseUrl, redisKeyPrefix, redisUrl, workerId } from './test-env';

process.env.ENVIRONMENT = 'test';
if (embeddedTestMode()) {
  // PGlite (pool of one, as in the embedded mode) and the in-process Redis adapter and jobs.
  process.env.DATABASE_URL = embeddedDatabaseUrl(workerId());
  process.env.DATABASE_POOL_SIZE = '1';
  delete process.env.REDIS_URL;
} else {
  process.env.DATABASE_URL = databaseUrl(workerId());
  process.env.REDIS_URL = redisUrl();
}
process.env.REDIS_KEY_PREFIX = redisKeyPrefix();
process.env.SECRET_KEY = 'test-secret-key-that-is-long-enough-0123456789';
process.env.ADMIN_API_KEY = 'test-admin-key-that-is-long-enough-0123456789';
process.env.PUBLIC_BASE_URL = 'http://127.0.0.1:8000';
// Cheap argon2 in tests: the parameters are configuration, the code path is the same.
process.env.ARGON2_MEMORY_KIB = process.env.ARGON2_MEMORY_KIB ?? '1024';
process.env.ARGON2_TIME_COST = process.env.ARGON2_TIME_COST ?? '1';
// Every test file bootstraps its own trees from 127.0.0.1; the bootstrap limit has its own test.
process.env.BOOTSTRAP_RATE_LIMIT_PER_HOUR = process.env.BOOTSTRAP_RATE_LIMIT_PER_HOUR ?? '1000000';
process.env.LOG_LEVEL = 'debug';
// Every test calls public routes from 127.0.0.1 under one Redis key prefix per worker: generous limits unless a
// test sets its own (the rate-limit tests do, through createTestApp overrides).
process.env.RATE_LIMIT_AGENT_PER_MINUTE = process.env.RATE_LIMIT_AGENT_PER_MINUTE ?? '1000000';
process.env.RATE_LIMIT_IP_PER_MINUTE = process.env.RATE_LIMIT_IP_PER_MINUTE ?? '1000000';
process.env.BOOTSTRAP_RATE_LIMIT_PER_HOUR = process.env.BOOTSTRAP_RATE_LIMIT_PER_HOUR ?? '1000000';

setLogDestination(logCapture);
