/** @type {import('jest').Config} */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.spec.json', diagnostics: false }];
// The MCP SDK (CommonJS build) loads its own jose 6 lazily for `private_key_jwt` (`require('jose')` inside an
// async function); jose 6 is ESM only, which Node loads with require(esm) but jest's module system cannot.
// That one package is compiled to CommonJS (the same code, only the module format changes) so the SDK runs
// unmodified under jest.
const esmPackages = ['@modelcontextprotocol/sdk/node_modules/jose'];
const esmToCjs = {
  transform: {
    '^.+\\.ts$': tsJest,
    [`/node_modules/(${esmPackages.join('|')})/.+\\.js$`]: [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022' }, diagnostics: false },
    ],
  },
  transformIgnorePatterns: [`^(?!.*/node_modules/(${esmPackages.join('|')})/).*/node_modules/`],
};
// The SDK (libs/sdk) is ESM source with `.js` relative imports (NodeNext); ts-jest compiles it to CommonJS,
// so those specifiers are mapped back to the .ts files. Its sub-entries live under libs/sdk/src/<entry>.
const moduleNameMapper = {
  '^@agentauth/sdk$': '<rootDir>/libs/sdk/src',
  '^@agentauth/sdk/(.*)$': '<rootDir>/libs/sdk/src/$1',
  '^@agentauth/(.*)$': '<rootDir>/libs/$1/src',
  '^(\\.{1,2}/.*)\\.js$': '$1',
};

/**
 * Integration suites that cannot run in the embedded mode, with the reason (docs/dev-mode.md). Everything
 * else under test/integration also runs in the `integration-embedded` project.
 */
const NOT_EMBEDDED = {
  // The compiled API in the embedded mode: already the subject of this suite, run once by `integration`.
  'devmode/': 'is the embedded-mode test itself',
  // Several processes sharing PostgreSQL and Redis (a BullMQ worker child process).
  'worker/': 'spawns the BullMQ worker process next to the API (multi-process, needs Redis and PostgreSQL)',
  // Scratch databases created and dropped on a PostgreSQL server; PGlite is one database.
  'foundation/migrations.spec.ts':
    'creates scratch databases on the PostgreSQL server (up/down of every migration)',
  // PostgreSQL logins as different roles; PGlite is one superuser session.
  'foundation/app-role-login.spec.ts':
    'logs in as PostgreSQL roles (owner, app role); PGlite has one superuser',
  'agents/subtree-indexes.spec.ts':
    'plans on a scratch database of the PostgreSQL server (~42 000 analysed rows); in the embedded project it would run on that same server again',
  // `make run` with DATABASE_URL/REDIS_URL set: a role and database created on the server, a Redis server of
  // its own, the compiled worker and API as child processes.
  'foundation/make-run.spec.ts':
    'is the PostgreSQL/Redis mode of `make run` itself (db-setup creates a role, own redis-server, worker + API processes)',
  // ENVIRONMENT=production refuses the embedded mode at config validation.
  'credentials/bootstrap.spec.ts': 'builds apps with ENVIRONMENT=production, which refuses the embedded mode',
  // Redis outage simulation (a client pointed at a dead port): the in-process adapter cannot be down.
  'ratelimit/fail-open.spec.ts': 'simulates a Redis outage; the in-process adapter is never unreachable',
  // The embedded limiter is the same sliding log in memory (test/unit/ratelimit/sliding-window.in-memory.spec.ts);
  // these suites assert Redis specifics: EVALSHA round trips, key TTLs, two app instances sharing one Redis.
  'ratelimit/agent-limits.spec.ts':
    'inspects EVALSHA calls and key TTLs, shares Redis between two app instances',
  // Quota leases exist only with a Redis server (several processes); the embedded limiter never leases.
  'ratelimit/quota-leases.spec.ts':
    'quota leases are a Redis-mode feature: the embedded limiter never leases',
  // Redis-specific: a real subscriber connection dropped and re-established.
  'policies/decision-cache-reconnect.spec.ts': 'forces a Redis subscriber reconnect',
  // BullMQ-specific: inspects the BullMQ queue, or drives deliveries by hand while no consumer runs (the
  // embedded mode's in-process jobs deliver on their own).
  'webhooks/webhooks-api.spec.ts': 'inspects the BullMQ webhooks queue (JobsProducer.queue)',
  'observability/queue-depth.spec.ts':
    'reads the depths of BullMQ queues; in-process jobs have no queue (no depth is reported)',
  'webhooks/webhook-delivery.spec.ts':
    'drives deliveries by hand assuming no consumer; in-process jobs deliver concurrently',
  // PostgreSQL server specifics: privileges of the least-privilege role (PGlite runs as superuser) and a
  // caller holding every pooled connection inside transactions (PGlite serves one transaction at a time).
  'audit/audit-interceptor.spec.ts':
    "makes the audit write fail through the app role's privileges (no role switch in PGlite)",
  'audit/audit-group-commit.spec.ts':
    'holds every pooled connection in open transactions while awaiting the writer (PGlite serves one transaction at a time)',
  // Two database connections at once: a token request runs inside another request's open transaction.
  'auth/token-revocation-race.spec.ts':
    'mints a token while a suspension transaction is open (needs a second connection; PGlite serves one)',
  // End-to-end interoperability (issue #21): a real AgentAuth on a loopback port, a real MCP server and, for
  // the authorization-code flow, a real headless Chromium. Run once, against PostgreSQL and Redis.
  'mcp/': 'end-to-end suites (MCP SDK client and server, headless Chromium), run once against PostgreSQL',
  'authorize/': 'drives the sign-in and consent pages in headless Chromium, run once against PostgreSQL',
  'auth/refresh-token-race.spec.ts':
    "queues concurrent refreshes on a refresh token's row lock held by a second connection (PGlite serves one)",
};

module.exports = {
  // Integration tests drive real databases and child processes on a shared 2-core machine: a busy moment is
  // not a failure (jest's default is 5 s; a global option, not a per-project one).
  testTimeout: 20_000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/unit/**/*.spec.ts'],
      ...esmToCjs,
      moduleNameMapper,
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/integration/**/*.spec.ts'],
      ...esmToCjs,
      moduleNameMapper,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFiles: ['<rootDir>/test/support/worker-env.ts'],
      slowTestThreshold: 30,
    },
    {
      // The same integration suites against the embedded mode's backends: PGlite (pool of one) and the
      // in-process Redis adapter and jobs (test/support/embedded-test-env.ts).
      displayName: 'integration-embedded',
      testEnvironment: 'node',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/integration/**/*.spec.ts'],
      testPathIgnorePatterns: Object.keys(NOT_EMBEDDED).map(
        (p) => `/test/integration/${p.replace('.', '\\.')}`,
      ),
      ...esmToCjs,
      moduleNameMapper,
      globalSetup: '<rootDir>/test/support/global-setup-embedded.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown-embedded.ts',
      setupFiles: ['<rootDir>/test/support/worker-env-embedded.ts'],
      slowTestThreshold: 30,
    },
  ],
};
