// @ts-check
/**
 * THE dependency rule of the server (ARCHITECTURE.md "The map", docs/architecture.md): checked by
 * eslint-plugin-boundaries in `make lint`, proven by test/unit/architecture/boundaries.spec.ts.
 *
 * 1. Lib → lib arrows: a lib imports only the libs listed for it (derived from main's imports; no cycles).
 * 2. Public entry points only: another lib is imported through `@agentauth/<lib>` (its `src/index.ts`),
 *    never a file inside it. Apps import libs the same way (exception: apps/<app>/src/tracing.ts loads
 *    core's tracing by path, before anything else is required — docs/architecture.md "Tracing").
 * 3. The floors of libs/auth, top to bottom: a floor imports only floors below it (the wiring files
 *    auth.module.ts and index.ts may import every floor).
 * 4. Config once (ARCHITECTURE rule 7): no `process.env` in the server outside libs/core.
 * The SDK/CLI rules (no server imports) stay `no-restricted-imports` rules in eslint.config.mjs.
 */

/** Allowed arrows: lib → the libs it may import (one line per lib). */
export const LIB_ARROWS = {
  scopes: [],
  sdk: [],
  core: ['scopes'],
  revocation: ['core'],
  audit: ['core'],
  jobs: ['core'],
  ratelimit: ['audit', 'core'],
  'scope-registry': ['audit', 'core', 'scopes'],
  keys: ['audit', 'core', 'jobs'],
  observability: ['audit', 'core', 'jobs', 'ratelimit'],
  agents: ['audit', 'core', 'ratelimit', 'scope-registry', 'scopes'],
  credentials: ['agents', 'audit', 'core', 'ratelimit', 'scope-registry', 'scopes'],
  policies: ['agents', 'audit', 'core', 'scopes'],
  webhooks: ['agents', 'audit', 'core', 'jobs'],
  delegations: ['agents', 'audit', 'core', 'keys', 'revocation', 'scope-registry', 'scopes'],
  'resource-servers': ['agents', 'audit', 'core', 'revocation', 'scope-registry', 'scopes'],
  auth: [
    'agents',
    'audit',
    'core',
    'credentials',
    'delegations',
    'keys',
    'policies',
    'ratelimit',
    'resource-servers',
    'revocation',
    'scope-registry',
    'scopes',
  ],
  'job-processors': ['agents', 'audit', 'auth', 'credentials', 'jobs', 'keys', 'revocation', 'webhooks'],
};

/**
 * The floors of libs/auth, top to bottom (one entry per floor; the folders of a floor may import each
 * other). `vocabulary/` is the OAuth vocabulary every floor speaks: one error class per RFC error code.
 */
export const AUTH_FLOORS = [
  ['http'],
  ['protocol'],
  [
    'grants',
    'tokens',
    'refresh',
    'introspection',
    'revocation',
    'policy',
    'cascades',
    'clients',
    'stats',
    'authorization',
  ],
  ['vocabulary'],
];

const libNames = Object.keys(LIB_ARROWS);
/** micromatch alternatives: `(a|b|c)`; a floor or lib with nothing allowed gets a pattern that matches nothing. */
const anyOf = (names) => (names.length ? `(${names.join('|')})` : '__nothing__');

/**
 * @param {any} boundaries the plugin
 * @returns {any[]} flat-config objects
 */
export function boundariesConfig(boundaries) {
  const floorPolicies = AUTH_FLOORS.map((floor, index) => ({
    from: { element: { type: 'auth-floor', captured: { folder: anyOf(floor) } } },
    allow: {
      to: { element: { type: 'auth-floor', captured: { folder: anyOf(AUTH_FLOORS.slice(index).flat()) } } },
    },
  }));
  const libPolicies = libNames.map((lib) => ({
    from: { element: { type: 'lib', captured: { lib } } },
    allow: {
      to: {
        element: { type: 'lib', captured: { lib: anyOf(LIB_ARROWS[lib]) }, fileInternalPath: 'src/index.ts' },
      },
    },
  }));
  const authPolicies = [
    // The floors speak to other libs like the rest of libs/auth.
    {
      from: { element: { type: 'auth-floor' } },
      allow: {
        to: {
          element: {
            type: 'lib',
            captured: { lib: anyOf(LIB_ARROWS.auth) },
            fileInternalPath: 'src/index.ts',
          },
        },
      },
    },
    // Apps compose libs through their public entry points; an app's tracing.ts loads core's tracing by path
    // (it must run before `@agentauth/core` requires pg, ioredis, express and pino).
    {
      from: { element: { type: 'app' } },
      allow: { to: { element: { type: 'lib', fileInternalPath: 'src/index.ts' } } },
    },
    {
      from: { element: { type: 'app', fileInternalPath: 'src/tracing.ts' } },
      allow: {
        to: {
          element: { type: 'lib', captured: { lib: 'core' }, fileInternalPath: 'src/tracing/tracing.ts' },
        },
      },
    },
    // The wiring (auth.module.ts, index.ts) imports every floor.
    {
      from: { element: { type: 'lib', captured: { lib: 'auth' } } },
      allow: { to: { element: { type: 'auth-floor' } } },
    },
  ];
  const dependencyRule = {
    files: ['apps/*/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: ['apps/cli/**', 'libs/sdk/**'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'boundaries/elements': [
        { type: 'auth-floor', pattern: 'libs/auth/src/*', capture: ['folder'] },
        { type: 'lib', pattern: 'libs/*', capture: ['lib'] },
        { type: 'app', pattern: 'apps/*', capture: ['app'] },
      ],
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: [...libPolicies, ...authPolicies, ...floorPolicies],
        },
      ],
    },
  };
  const configOnce = {
    files: ['apps/api/src/**/*.ts', 'apps/worker/src/**/*.ts', 'libs/*/src/**/*.ts'],
    ignores: ['libs/core/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Configuration is read once, in libs/core (APP_CONFIG): inject AppConfig instead.',
        },
      ],
    },
  };
  return [dependencyRule, configOnce];
}
