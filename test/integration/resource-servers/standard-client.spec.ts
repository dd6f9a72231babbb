import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { aKey, anAgent, aTree } from '../../factories/agents';
import { aResourceServer, anIdentifier } from '../../factories/resource-servers';
import { aScope } from '../../factories/scopes';
import { listeningApp, type TestApp } from '../../support/app';

const run = promisify(execFile);

/** What the probe prints: the discovered metadata and the token response, or the client's error. */
interface ProbeOutput {
  metadata: { issuer: string; jwks_uri: string };
  tokens: { access_token: string; token_type: string; scope?: string; expires_in?: number };
  error?: string;
  code?: string;
  cause?: string;
}
const PROBE = path.resolve(__dirname, '../../support/openid-client-probe.mjs');

/**
 * Issue 19 "Done when": a real client (openid-client 6, unmodified) gets a resource-bound token through
 * RFC 8414 discovery alone, and a resource server verifies it the standard way — jose's `jwtVerify` with
 * `createRemoteJWKSet` from the discovered `jwks_uri`, checking `iss`, `aud` and `typ: at+jwt`.
 */
describe('a standard client and a standard resource server', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await listeningApp();
    base = t.config.publicBaseUrl;
  });
  afterAll(async () => {
    await t.close();
  });

  async function probe(env: Record<string, string>): Promise<ProbeOutput> {
    try {
      const { stdout } = await run(process.execPath, [PROBE], {
        env: { PATH: process.env.PATH ?? '', ...env },
        timeout: 15_000,
      });
      return JSON.parse(stdout) as ProbeOutput;
    } catch (error) {
      const stdout = (error as { stdout?: string }).stdout;
      if (stdout) return JSON.parse(stdout) as ProbeOutput;
      throw error;
    }
  }

  it('openid-client 6 obtains a token for a resource server; jose verifies iss, aud and typ with the remote JWKS', async () => {
    const root = await aTree(t);
    await aScope(t, root, 'tools:run');
    await aScope(t, root, 'tools:list');
    const agent = await aKey(
      t,
      root,
      await anAgent(t, root, { allowed_scopes: ['tools:run', 'tools:list'] }),
    );
    const server = await aResourceServer(t, root, {
      identifier: anIdentifier('tools'),
      scopes: ['tools:list', 'tools:run'],
    });

    const out = await probe({
      PROBE_ISSUER: base,
      PROBE_CLIENT_ID: agent.agent.id,
      PROBE_CLIENT_SECRET: agent.apiKey,
      PROBE_RESOURCE: server.identifier,
    });
    expect(out.error).toBeUndefined();
    expect(out.metadata).toMatchObject({ issuer: base, jwks_uri: `${base}${t.config.apiPrefix}/auth/jwks` });
    expect(out.tokens).toMatchObject({
      token_type: 'bearer', // openid-client normalizes the case
      scope: 'tools:list tools:run',
      expires_in: expect.any(Number),
    });

    const jwks = createRemoteJWKSet(new URL(out.metadata.jwks_uri));
    const { payload, protectedHeader } = await jwtVerify(out.tokens.access_token, jwks, {
      issuer: out.metadata.issuer,
      audience: server.identifier,
      typ: 'at+jwt',
      algorithms: ['RS256'],
    });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({
      iss: base,
      aud: server.identifier,
      sub: agent.agent.id,
      client_id: agent.agent.id,
      scope: 'tools:list tools:run',
    });
    // The management API's audience is not this token's: a resource server checking `aud` refuses it.
    await expect(
      jwtVerify(out.tokens.access_token, jwks, { issuer: base, audience: `${base}${t.config.apiPrefix}` }),
    ).rejects.toThrow(/aud/);

    // Another tree's resource server is invalid_target for this client, through the same standard client.
    const theirs = await aTree(t);
    await aScope(t, theirs, 'tools:run');
    const theirServer = await aResourceServer(t, theirs, { scopes: ['tools:run'] });
    const refused = await probe({
      PROBE_ISSUER: base,
      PROBE_CLIENT_ID: agent.agent.id,
      PROBE_CLIENT_SECRET: agent.apiKey,
      PROBE_RESOURCE: theirServer.identifier,
    });
    expect(refused.error).toEqual(expect.any(String));
    expect(refused.cause).toBe('invalid_target');
  });
});
