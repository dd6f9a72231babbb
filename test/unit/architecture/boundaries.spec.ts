import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The dependency rule (eslint.boundaries.mjs, run by `make lint`) bites: each deliberate violation below is
 * reported by `boundaries/dependencies`, and files that keep the rule pass. The fixtures are source texts
 * linted under a virtual path (they never exist as files, so lint, typecheck and build never see them); the
 * imports they name are real files, resolved like every import in the repository.
 */

interface Fixture {
  filePath: string;
  code: string;
}

interface Linted {
  filePath: string;
  messages: { ruleId: string | null; line: number; message: string }[];
}

const ROOT = join(__dirname, '..', '..', '..');

function lint(fixtures: Fixture[]): Linted[] {
  const out = execFileSync(process.execPath, [join(__dirname, 'lint-fixtures.mjs')], {
    cwd: ROOT,
    input: JSON.stringify(fixtures),
    encoding: 'utf8',
  });
  return JSON.parse(out) as Linted[];
}

const violations: [string, Fixture, string?][] = [
  [
    "a lib importing another lib's internals (not its public index)",
    {
      filePath: 'libs/credentials/src/__fixture__.ts',
      code: "import { AgentsRepository } from '../../agents/src/agents.repository';\nexport const x = AgentsRepository;\n",
    },
  ],
  [
    'an arrow that is not allowed (audit → auth: auth depends on audit, this would be a cycle)',
    {
      filePath: 'libs/audit/src/__fixture__.ts',
      code: "import { AuthModule } from '@agentauth/auth';\nexport const x = AuthModule;\n",
    },
  ],
  [
    'an arrow that is not allowed (core → agents: core is the bottom)',
    {
      filePath: 'libs/core/src/__fixture__.ts',
      code: "import { AgentsService } from '@agentauth/agents';\nexport const x = AgentsService;\n",
    },
  ],
  [
    "an app importing a lib's internals",
    {
      filePath: 'apps/api/src/__fixture__.ts',
      code: "import { TokenController } from '../../../libs/auth/src/http/token.controller';\nexport const x = TokenController;\n",
    },
  ],
  [
    'libs/auth: a protocol file importing http (a floor above it)',
    {
      filePath: 'libs/auth/src/protocol/__fixture__.ts',
      code: "import { TokenController } from '../http/token.controller';\nexport const x = TokenController;\n",
    },
  ],
  [
    'libs/auth: a services file (grants) importing protocol',
    {
      filePath: 'libs/auth/src/grants/__fixture__.ts',
      code: "import { oauthParams } from '../protocol/token-request';\nexport const x = oauthParams;\n",
    },
  ],
  [
    'libs/auth: a services file (introspection) importing protocol',
    {
      filePath: 'libs/auth/src/introspection/__fixture__.ts',
      code: "import { ClientAuthenticator } from '../protocol/client-authenticator.service';\nexport const x = ClientAuthenticator;\n",
    },
  ],
  [
    'libs/auth: the vocabulary importing a services floor',
    {
      filePath: 'libs/auth/src/vocabulary/__fixture__.ts',
      code: "import { isUuid } from '../tokens/access-token-claims';\nexport const x = isUuid;\n",
    },
  ],
  [
    'libs/auth: a folder no floor lists',
    {
      filePath: 'libs/auth/src/elsewhere/__fixture__.ts',
      code: "import { InvalidGrantError } from '../vocabulary/oauth-errors';\nexport const x = InvalidGrantError;\n",
    },
  ],
];

const configOnce: [string, Fixture, string?][] = [
  [
    'process.env read outside libs/core (config is read once)',
    { filePath: 'libs/auth/src/grants/__fixture__.ts', code: 'export const x = process.env.FOO;\n' },
    'no-restricted-properties',
  ],
];

const correct: [string, Fixture][] = [
  [
    'a grant importing its own floor, the vocabulary and allowed libs through their index',
    {
      filePath: 'libs/auth/src/grants/__fixture__.ts',
      code: [
        "import { AgentsService } from '@agentauth/agents';",
        "import { Clock } from '@agentauth/core';",
        "import { RefreshTokensService } from '../refresh/refresh-tokens.service';",
        "import { AccessTokenIssuer } from '../tokens/access-token.issuer';",
        "import { InvalidGrantError } from '../vocabulary/oauth-errors';",
        "import { ScopeResolver } from './scope-resolution';",
        'export const x = [AgentsService, Clock, RefreshTokensService, AccessTokenIssuer, InvalidGrantError, ScopeResolver];',
        '',
      ].join('\n'),
    },
  ],
  [
    'http importing protocol and the services floor',
    {
      filePath: 'libs/auth/src/http/__fixture__.ts',
      code: "import { TokenEndpoint } from '../protocol/token-endpoint';\nimport { IntrospectionService } from '../introspection/introspection.service';\nexport const x = [TokenEndpoint, IntrospectionService];\n",
    },
  ],
  [
    'a lib importing an allowed lib through its public index',
    {
      filePath: 'libs/credentials/src/__fixture__.ts',
      code: "import { AgentsService } from '@agentauth/agents';\nexport const x = AgentsService;\n",
    },
  ],
  [
    'an app importing libs through their public index',
    {
      filePath: 'apps/worker/src/__fixture__.ts',
      code: "import { TokenCascadesModule } from '@agentauth/auth';\nimport { JobsModule } from '@agentauth/jobs';\nexport const x = [TokenCascadesModule, JobsModule];\n",
    },
  ],
];

/** The tables of eslint.boundaries.mjs (an ES module: read by a child process, like the linting). */
function tables(): { LIB_ARROWS: Record<string, string[]>; AUTH_FLOORS: string[][] } {
  const script =
    "import { LIB_ARROWS, AUTH_FLOORS } from './eslint.boundaries.mjs'; process.stdout.write(JSON.stringify({ LIB_ARROWS, AUTH_FLOORS }));";
  return JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' }),
  ) as ReturnType<typeof tables>;
}

describe('the tables of the dependency rule', () => {
  const { LIB_ARROWS, AUTH_FLOORS } = tables();

  it('list every lib, arrows only to listed libs, and no cycle', () => {
    const libs = readdirSync(join(ROOT, 'libs'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(Object.keys(LIB_ARROWS).sort()).toEqual(libs.sort());
    for (const targets of Object.values(LIB_ARROWS)) for (const t of targets) expect(libs).toContain(t);
    // Depth-first search: a lib met again on the current path is a cycle.
    const onPath = new Set<string>();
    const done = new Set<string>();
    const visit = (lib: string, path: string[]): void => {
      if (done.has(lib)) return;
      if (onPath.has(lib)) throw new Error(`cycle: ${[...path, lib].join(' → ')}`);
      onPath.add(lib);
      for (const t of LIB_ARROWS[lib]) visit(t, [...path, lib]);
      onPath.delete(lib);
      done.add(lib);
    };
    for (const lib of libs) expect(() => visit(lib, [])).not.toThrow();
  });

  it('put every folder of libs/auth/src on exactly one floor', () => {
    const folders = readdirSync(join(ROOT, 'libs/auth/src'), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(AUTH_FLOORS.flat().sort()).toEqual(folders.sort());
  });
});

describe('the checked dependency rule (eslint.boundaries.mjs)', () => {
  // One ESLint child process for every fixture (loading typescript-eslint and the resolver takes seconds).
  let results: Map<string, Linted>;
  const all: [string, Fixture, string?][] = [...violations, ...configOnce, ...correct];

  beforeAll(() => {
    const linted = lint(all.map(([, fixture]) => fixture));
    results = new Map(all.map(([name], i) => [name, linted[i]]));
  }, 60_000);

  it.each([...violations, ...configOnce])(
    'reports %s',
    (name, _fixture, ruleId = 'boundaries/dependencies') => {
      const messages = results.get(name)!.messages;
      expect(messages.map((m) => [m.ruleId, m.line])).toEqual([[ruleId, 1]]);
    },
  );

  it.each(correct)('passes %s', (name) => {
    expect(results.get(name)!.messages).toEqual([]);
  });
});
