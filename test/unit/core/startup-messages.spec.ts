import * as path from 'node:path';
import type { LoggerService } from '@nestjs/common';
import {
  ConfigValidationError,
  exampleSecretWarnings,
  loadConfig,
} from '../../../libs/core/src/config/app-config';
import { embeddedDataDirForDisplay } from '../../../libs/core/src/embedded/runtime-mode';
import {
  ActionableStartupError,
  describeStartupFailure,
  formatStartupFailureForTerminal,
  writeFatalStartupError,
} from '../../../libs/core/src/logging/fatal';
import { QuietFrameworkLogger } from '../../../libs/core/src/logging/framework-logger';
import { closestProperty } from '../../../libs/core/src/http/validation';

/** What start-up says when it fails or runs on example secrets: each message names its fix (issue #24). */
describe('start-up messages', () => {
  const base = { SECRET_KEY: 'your-secret-key-here', ADMIN_API_KEY: 'your-admin-api-key-here' };

  describe('example-secret warnings', () => {
    it('warns outside tests when an example secret of .env.example is in use, naming the variable and the fix', () => {
      const warnings = exampleSecretWarnings(loadConfig({ ...base, ENVIRONMENT: 'development' }, '/tmp'));
      expect(warnings).toEqual([
        expect.stringMatching(/^ADMIN_API_KEY is the example value from \.env\.example .*set a real secret/),
        expect.stringMatching(/^SECRET_KEY is the example value from \.env\.example.*set a real secret/),
      ]);
      expect(exampleSecretWarnings(loadConfig({ ...base, ENVIRONMENT: 'staging' }, '/tmp'))).toHaveLength(2);
    });

    it('says nothing in tests or with real secrets', () => {
      expect(exampleSecretWarnings(loadConfig({ ...base, ENVIRONMENT: 'test' }, '/tmp'))).toEqual([]);
      const real = { SECRET_KEY: 'x'.repeat(40), ADMIN_API_KEY: 'y'.repeat(40) };
      expect(exampleSecretWarnings(loadConfig({ ...real, ENVIRONMENT: 'development' }, '/tmp'))).toEqual([]);
    });
  });

  it('derives PUBLIC_BASE_URL from PORT unless it is set', () => {
    expect(loadConfig({ ...base, PORT: '8100' }, '/tmp').publicBaseUrl).toBe('http://localhost:8100');
    expect(
      loadConfig({ ...base, PORT: '8100', PUBLIC_BASE_URL: 'https://auth.example.com' }, '/tmp')
        .publicBaseUrl,
    ).toBe('https://auth.example.com');
  });

  describe('describeStartupFailure', () => {
    it('a busy port: names the port and the variable to change, no stack', () => {
      const error = Object.assign(new Error('listen EADDRINUSE: address already in use 0.0.0.0:8000'), {
        code: 'EADDRINUSE',
        port: 8000,
      });
      expect(describeStartupFailure(error, {})).toEqual({
        error: 'port 8000 is already in use (EADDRINUSE): another process listens on it',
        fix: 'stop that process, or set PORT to a free port (e.g. PORT=8100 make run)',
      });
    });

    it('PostgreSQL refusing connections: `make up`, or unset DATABASE_URL for the embedded mode', () => {
      const refused = (port: number) =>
        Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED', port });
      const env = { DATABASE_URL: 'postgresql://u:secret@localhost:5499/agentauth' };
      const expected = {
        error: 'cannot connect to PostgreSQL at localhost:5499 (ECONNREFUSED): nothing is listening there',
        fix: 'start PostgreSQL and Redis with `make up`, or unset DATABASE_URL (and REDIS_URL) for the embedded mode',
      };
      expect(describeStartupFailure(refused(5499), env)).toEqual(expected);
      // pg reports ::1 and 127.0.0.1 together
      expect(describeStartupFailure(new AggregateError([refused(5499), refused(5499)]), env)).toEqual(
        expected,
      );
      expect(JSON.stringify(describeStartupFailure(refused(5499), env))).not.toContain('secret');
      // another port (not the database's): no database hint
      expect(describeStartupFailure(refused(6379), env).fix).toBeUndefined();
    });

    it('an actionable error: its message and its fix, no stack', () => {
      expect(describeStartupFailure(new ActionableStartupError('it broke', 'do this'), {})).toEqual({
        error: 'it broke',
        fix: 'do this',
      });
    });

    it('a configuration error: every problem on its own, in one JSON-safe line', () => {
      let error: unknown;
      try {
        loadConfig({ PORT: 'eighty', ENVIRONMENT: 'dev' }, '/tmp');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigValidationError);
      const failure = describeStartupFailure(error, {});
      expect(failure.problems).toEqual(
        expect.arrayContaining([
          'ENVIRONMENT must be one of development, test, staging, production (got "dev")',
          'PORT must be an integer (got "eighty")',
          'SECRET_KEY is required',
        ]),
      );
      expect(failure.error).not.toContain('\n');
      expect(failure.fix).toContain('.env.example');
    });

    it('anything else keeps its stack', () => {
      const error = new Error('boom');
      expect(describeStartupFailure(error, {})).toEqual({ error: error.stack });
    });
  });

  describe('writeFatalStartupError', () => {
    function capture(isTTY: boolean) {
      const chunks: string[] = [];
      return { chunks, stream: { isTTY, write: (text: string) => chunks.push(text) } };
    }
    const configError = new ConfigValidationError([
      'PORT must be an integer (got "x")',
      'SECRET_KEY is required',
    ]);

    it('writes one JSON line (no \\n inside) when stderr is not a terminal', () => {
      const { chunks, stream } = capture(false);
      writeFatalStartupError('agentauth-api', configError, stream);
      expect(chunks).toHaveLength(1);
      expect(chunks[0].endsWith('\n')).toBe(true);
      expect(chunks[0].slice(0, -1)).not.toContain('\n');
      expect(JSON.parse(chunks[0])).toMatchObject({
        level: 'fatal',
        service_name: 'agentauth-api',
        msg: 'startup failed',
        problems: ['PORT must be an integer (got "x")', 'SECRET_KEY is required'],
        fix: expect.stringContaining('.env.example'),
      });
    });

    it('adds the readable form on a terminal: one line per problem, the fix on its own line', () => {
      const { chunks, stream } = capture(true);
      writeFatalStartupError('agentauth-api', configError, stream);
      expect(chunks).toHaveLength(2);
      expect(chunks[1]).toBe(
        [
          'agentauth-api could not start:',
          '  invalid configuration:',
          '    - PORT must be an integer (got "x")',
          '    - SECRET_KEY is required',
          `  fix: ${describeStartupFailure(configError, {}).fix}`,
          '',
        ].join('\n'),
      );
      expect(chunks[1]).not.toContain('\\n');
    });

    it('formats any failure with its fix for a terminal', () => {
      expect(formatStartupFailureForTerminal('agentauth-api', { error: 'port busy', fix: 'PORT=8100' })).toBe(
        'agentauth-api could not start:\n  port busy\n  fix: PORT=8100\n',
      );
    });
  });

  it('shows the default embedded data directory as the folder to delete (./.agentauth)', () => {
    const cwd = '/repo';
    expect(embeddedDataDirForDisplay(path.join(cwd, '.agentauth/pgdata'), cwd)).toBe('./.agentauth');
    expect(embeddedDataDirForDisplay(path.join(cwd, 'data'), cwd)).toBe('./data');
    expect(embeddedDataDirForDisplay('/elsewhere/data', cwd)).toBe('/elsewhere/data');
  });

  it("puts Nest's start-up narration at debug level and leaves everything else as it is", () => {
    const calls: string[] = [];
    const inner: LoggerService = {
      log: (m: unknown, c?: unknown) => calls.push(`log:${String(m)}:${String(c)}`),
      debug: (m: unknown, c?: unknown) => calls.push(`debug:${String(m)}:${String(c)}`),
      warn: (m: unknown, c?: unknown) => calls.push(`warn:${String(m)}:${String(c)}`),
      error: (m: unknown, c?: unknown) => calls.push(`error:${String(m)}:${String(c)}`),
    };
    const logger = new QuietFrameworkLogger(inner);
    logger.log('Mapped {/api/v1/agents, POST} route', 'RouterExplorer');
    logger.log('AgentsModule dependencies initialized', 'InstanceLoader');
    logger.log('Nest application successfully started', 'NestApplication');
    logger.log('AgentAuth running in embedded mode');
    logger.log('signing key created', 'SigningKeysService');
    logger.warn('careful', 'RouterExplorer');
    logger.error('Error: listen EADDRINUSE: address already in use 0.0.0.0:8000', 'NestApplication');
    logger.error('boom', 'NestApplication');
    expect(calls).toEqual([
      'debug:Mapped {/api/v1/agents, POST} route:RouterExplorer',
      'debug:AgentsModule dependencies initialized:InstanceLoader',
      'debug:Nest application successfully started:NestApplication',
      'log:AgentAuth running in embedded mode:undefined',
      'log:signing key created:SigningKeysService',
      'warn:careful:RouterExplorer',
      // the fatal start-up line says it, with the port and the fix
      'debug:Error: listen EADDRINUSE: address already in use 0.0.0.0:8000:NestApplication',
      'error:boom:NestApplication',
    ]);
  });
});

describe('closestProperty (validation: "did you mean …?")', () => {
  const declared = ['name', 'description', 'allowed_scopes', 'parent_agent_id', 'expires_at'];
  it('finds the declared name an unknown one ends, or a near typo of it', () => {
    expect(closestProperty('scopes', declared)).toBe('allowed_scopes');
    expect(closestProperty('nmae', declared)).toBe('name');
    expect(closestProperty('expires', declared)).toBe('expires_at');
    expect(closestProperty('colour', declared)).toBeUndefined();
    expect(closestProperty('id', declared)).toBeUndefined();
  });
});
