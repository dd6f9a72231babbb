import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { aTree } from '../../factories/agents';
import type { TestApp } from '../../support/app';
import { tempDir } from '../../support/api-process';
import { ensureWorkerBuild } from '../../support/worker-process';
import { listeningApp } from './sdk-helpers';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The ten-line program of the README: an agent gets (and reuses) a token with the installed package. */
const SCRIPT = `import { AgentAuthClient } from '@agentauth/sdk';
const client = new AgentAuthClient({
  issuer: process.env.AGENTAUTH_URL,
  clientId: process.env.AGENTAUTH_CLIENT_ID,
  clientSecret: process.env.AGENTAUTH_CLIENT_SECRET,
});
const token = await client.getToken({ scope: 'agents:read' });
const again = await client.getToken({ scope: 'agents:read' });
const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
console.log(JSON.stringify({ sub: claims.sub, scope: claims.scope, cached: token === again }));
`;

/** A TypeScript consumer: the published declarations type-check under NodeNext resolution. */
const TYPED = `import { AgentAuthClient, createVerifier, OAuthError, type TokenSet } from '@agentauth/sdk';
import { createManagementClient } from '@agentauth/sdk/management';
import { requireAgentAuth } from '@agentauth/sdk/resource-server';
const client = new AgentAuthClient({ issuer: 'https://a.example', clientId: 'x', clientSecret: 'y' });
export const pending: Promise<TokenSet> = client.getTokenSet({ scope: ['a'], resource: 'https://r.example' });
export const verifier = createVerifier({ issuer: 'https://a.example', audience: 'https://r.example' });
export const middleware = requireAgentAuth(verifier, { requiredScopes: ['a'] });
export const management = createManagementClient({ baseUrl: 'https://a.example', agent: client });
export const isOAuth = (e: unknown): boolean => e instanceof OAuthError && e.error === 'invalid_grant';
`;

describe('the @agentauth/sdk package (npm pack → install outside the repository)', () => {
  let t: TestApp & { base: string };
  let scratch: string;
  beforeAll(async () => {
    await ensureWorkerBuild();
    t = await listeningApp();
    scratch = tempDir('sdk-consumer');
  }, 180_000);
  afterAll(async () => {
    await t?.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('packs dist and metadata only, installs into a scratch folder, and a 10-line ESM script gets a token', async () => {
    expect(path.relative(ROOT, scratch).startsWith('..')).toBe(true);
    const { stdout: packed } = await run('npm', ['pack', '--json', '--pack-destination', scratch], {
      cwd: path.join(ROOT, 'libs', 'sdk'),
    });
    const [manifest] = JSON.parse(packed) as { filename: string; files: { path: string }[] }[];
    const files = manifest.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'dist/index.js', 'dist/index.d.ts']));
    expect(files.filter((f) => !f.startsWith('dist/') && f !== 'package.json' && f !== 'README.md')).toEqual(
      [],
    );
    expect(files.some((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toBe(false);

    fs.writeFileSync(
      path.join(scratch, 'package.json'),
      JSON.stringify({ name: 'sdk-consumer', private: true, type: 'module' }),
    );
    await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(scratch, manifest.filename)],
      { cwd: scratch, timeout: 120_000 },
    );
    fs.writeFileSync(path.join(scratch, 'get-token.mjs'), SCRIPT);
    expect(SCRIPT.trimEnd().split('\n')).toHaveLength(10);

    const root = await aTree(t);
    const { stdout } = await run(process.execPath, ['get-token.mjs'], {
      cwd: scratch,
      env: {
        PATH: process.env.PATH,
        AGENTAUTH_URL: t.base,
        AGENTAUTH_CLIENT_ID: root.agent.id,
        AGENTAUTH_CLIENT_SECRET: root.apiKey,
      },
    });
    expect(JSON.parse(stdout)).toEqual({ sub: root.agent.id, scope: 'agents:read', cached: true });

    fs.writeFileSync(path.join(scratch, 'typed.ts'), TYPED);
    fs.writeFileSync(
      path.join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          lib: ['ES2023', 'DOM'],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['typed.ts'],
      }),
    );
    await run(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', scratch],
      {
        cwd: scratch,
      },
    );
  }, 180_000);
});
