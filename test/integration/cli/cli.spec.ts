import * as fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { ensureWorkerBuild } from '../../support/worker-process';
import * as path from 'node:path';
import request from 'supertest';
import { aTree, type Caller, claimsOf, requestToken } from '../../factories/agents';
import { aKeyPair, assertionParams, clientAssertion } from '../../factories/public-keys';
import type { TestApp } from '../../support/app';
import { listeningApp } from '../sdk/sdk-helpers';
import { CliUser } from './cli-helpers';

const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const REQUEST_ID = /request id \S+/;

/**
 * The `agentauth` binary as a user runs it: spawned from the compiled build (`make build`), against a real
 * server, with a HOME of its own. Per command group: the happy path (tables and --json), one error path with
 * its exit code (1 failed, 2 usage) and message.
 */
describe('agentauth CLI', () => {
  let t: TestApp & { base: string };
  let user: CliUser;
  let root: Caller;
  let adminKey: string;

  beforeAll(async () => {
    await ensureWorkerBuild();
    t = await listeningApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });
    adminKey = t.config.adminApiKey;
    root = await aTree(t);
    user = new CliUser();
    const login = await user.run([
      'login',
      '--url',
      t.base,
      '--client-id',
      root.agent.id,
      '--client-secret',
      root.apiKey,
      '--admin-key',
      adminKey,
      '--json',
    ]);
    expect(login).toMatchObject({ code: 0, stderr: '' });
  }, 180_000);
  afterAll(async () => {
    user?.remove();
    await t?.close();
  });

  describe('login and profiles', () => {
    it('saves the checked profile in a 0600 file under XDG_CONFIG_HOME', () => {
      const file = user.configFile();
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.statSync(fs.realpathSync(`${file}/..`)).mode & 0o777).toBe(0o700);
      const config = JSON.parse(fs.readFileSync(file, 'utf8'));
      expect(config).toEqual({
        current: 'default',
        profiles: {
          default: { url: t.base, client_id: root.agent.id, client_secret: root.apiKey, admin_key: adminKey },
        },
      });
    });

    it('uses ~/.config when XDG_CONFIG_HOME is unset, and a named profile', async () => {
      const other = new CliUser();
      try {
        const result = await other.run(
          ['login', '--profile', 'work', '--url', t.base, '--client-id', root.agent.id, '--json'],
          { XDG_CONFIG_HOME: '', AGENTAUTH_CLIENT_SECRET: root.apiKey },
        );
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout)).toMatchObject({
          profile: 'work',
          agent_id: root.agent.id,
          current: true,
        });
        const file = `${other.home}/.config/agentauth/config.json`;
        expect(fs.statSync(file).mode & 0o777).toBe(0o600);
        const listed = await other.run(['--profile', 'work', 'agents', 'get', root.agent.id, '--json'], {
          XDG_CONFIG_HOME: '',
        });
        expect(JSON.parse(listed.stdout)).toMatchObject({ id: root.agent.id });
      } finally {
        other.remove();
      }
    });

    it('refuses bad credentials with the OAuth error and request id (exit 1), saving nothing', async () => {
      const other = new CliUser();
      try {
        const result = await other.run([
          'login',
          '--url',
          t.base,
          '--client-id',
          root.agent.id,
          '--client-secret',
          'aa_x_y',
        ]);
        expect(result.code).toBe(1);
        expect(result.stderr).toMatch(/^error: invalid_client.*HTTP 401, request id \S+\)/);
        expect(fs.existsSync(other.configFile())).toBe(false);
      } finally {
        other.remove();
      }
    });

    it('is a usage error (exit 2) without a server, and environment variables override the profile', async () => {
      const other = new CliUser();
      try {
        const noServer = await other.run(['agents', 'ls']);
        expect(noServer.code).toBe(2);
        expect(noServer.stderr).toContain('agentauth login');
        const fromEnv = await other.json(['agents', 'get', root.agent.id], {
          AGENTAUTH_URL: t.base,
          AGENTAUTH_CLIENT_ID: root.agent.id,
          AGENTAUTH_CLIENT_SECRET: root.apiKey,
        });
        expect(fromEnv).toMatchObject({ id: root.agent.id });
      } finally {
        other.remove();
      }
    });
  });

  describe('agents', () => {
    it('create, ls, get, update, tree, suspend, activate, delete', async () => {
      const child = await user.json<{ id: string; name: string; parent_agent_id: string }>([
        'agents',
        'create',
        '--name',
        'cli-child',
        '--scopes',
        'agents:read,credentials:read',
      ]);
      expect(child).toMatchObject({ name: 'cli-child', parent_agent_id: root.agent.id });
      const grandchild = await user.json<{ id: string }>([
        'agents',
        'create',
        '--name',
        'cli-grandchild',
        '--parent',
        child.id,
        '--scopes',
        'agents:read',
      ]);

      const page = await user.json<{ items: { id: string }[] }>(['agents', 'ls']);
      expect(page.items.map((a) => a.id)).toEqual(
        expect.arrayContaining([root.agent.id, child.id, grandchild.id]),
      );
      const table = await user.run(['agents', 'ls']);
      expect(table.code).toBe(0);
      expect(table.stdout.split('\n')[0]).toMatch(
        /^ID\s+NAME\s+TRUST_LEVEL\s+STATUS\s+DEPTH\s+ALLOWED_SCOPES$/,
      );
      expect(table.stdout).toContain('cli-grandchild');

      const tree = await user.run(['agents', 'tree']);
      expect(tree.stdout).toMatch(
        new RegExp(`└─ cli-child \\(${child.id}\\) delegated\\n   └─ cli-grandchild`),
      );
      const treeJson = await user.json<
        { id: string; children: { id: string; children: { id: string }[] }[] }[]
      >(['agents', 'tree']);
      expect(treeJson[0]).toMatchObject({
        id: root.agent.id,
        children: [{ id: child.id, children: [{ id: grandchild.id }] }],
      });

      expect(await user.json(['agents', 'update', child.id, '--name', 'renamed'])).toMatchObject({
        name: 'renamed',
      });
      expect(await user.json(['agents', 'suspend', child.id])).toMatchObject({ status: 'suspended' });
      expect((await user.run(['agents', 'get', grandchild.id])).stdout).toMatch(/status\s+active/);
      expect(await user.json(['agents', 'activate', child.id])).toMatchObject({ status: 'active' });
      const deleted = await user.json<{ deactivated_agent_ids: string[] }>(['agents', 'delete', child.id]);
      expect(deleted.deactivated_agent_ids.sort()).toEqual([child.id, grandchild.id].sort());
    });

    it('an unknown agent is exit 1 with the problem detail and request id; a malformed id is exit 2', async () => {
      const missing = await user.run(['agents', 'get', UNKNOWN]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^error: .*\(HTTP 404, request id \S+\)/);
      const missingJson = await user.run(['agents', 'get', UNKNOWN, '--json']);
      expect(JSON.parse(missingJson.stderr)).toMatchObject({ status: 404, request_id: expect.any(String) });
      const malformed = await user.run(['agents', 'get', 'not-a-uuid']);
      expect(malformed.code).toBe(2);
      expect(malformed.stderr).toContain('expected a UUID');
      const noSubcommand = await user.run(['agents']);
      expect(noSubcommand.code).toBe(2);
    });
  });

  describe('keys', () => {
    it('create shows the raw key once (never in --json unless asked), ls masks it, rotate, revoke', async () => {
      const agent = await user.json<{ id: string }>([
        'agents',
        'create',
        '--name',
        'key-holder',
        '--scopes',
        'agents:read',
      ]);
      const human = await user.run(['keys', 'create', '--agent', agent.id, '--name', 'first']);
      expect(human.code).toBe(0);
      const rawKey = /shown once, store it now\): (\S+)/.exec(human.stdout)![1];
      expect(rawKey).toMatch(/^aa_/);

      const quiet = await user.json<Record<string, unknown>>(['keys', 'create', '--agent', agent.id]);
      expect(quiet).toMatchObject({ agent_id: agent.id, status: 'active' });
      expect(quiet).not.toHaveProperty('api_key');
      const loud = await user.json<{ id: string; api_key: string }>([
        'keys',
        'create',
        '--agent',
        agent.id,
        '--show-secrets',
      ]);
      expect(loud.api_key).toMatch(/^aa_/);

      const listed = await user.run(['keys', 'ls', '--agent', agent.id]);
      expect(listed.stdout).not.toContain(rawKey);
      expect(listed.stdout).not.toContain(loud.api_key);
      const page = await user.json<{ items: { id: string }[] }>(['keys', 'ls', '--agent', agent.id]);
      expect(page.items).toHaveLength(3);

      const rotated = await user.json<{ id: string; previous: { id: string } }>([
        'keys',
        'rotate',
        loud.id,
        '--grace',
        '0',
      ]);
      expect(rotated.previous.id).toBe(loud.id);
      expect(rotated).not.toHaveProperty('api_key');
      expect(await user.json(['keys', 'revoke', rotated.id])).toMatchObject({
        id: rotated.id,
        status: 'revoked',
      });
    });

    it('revoking an unknown key is exit 1 (404); a negative grace is exit 2', async () => {
      const missing = await user.run(['keys', 'revoke', UNKNOWN]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/HTTP 404/);
      expect(missing.stderr).toMatch(REQUEST_ID);
      expect((await user.run(['keys', 'rotate', UNKNOWN, '--grace', '-5'])).code).toBe(2);
    });
    it('create --jwk registers a public key (no secret) that authenticates with private_key_jwt; a private JWK is exit 2 and sends nothing', async () => {
      const agent = await user.json<{ id: string }>([
        'agents',
        'create',
        '--name',
        'jwk-holder',
        '--scopes',
        'agents:read',
      ]);
      const pair = aKeyPair('ES256');
      const publicFile = path.join(user.home, 'public.jwk.json');
      fs.writeFileSync(publicFile, JSON.stringify(pair.publicJwk));
      const registered = await user.json<Record<string, unknown> & { kid: string }>([
        'keys',
        'create',
        '--agent',
        agent.id,
        '--jwk',
        publicFile,
        '--show-secrets',
      ]);
      expect(registered).toMatchObject({
        type: 'public_key',
        agent_id: agent.id,
        alg: 'ES256',
        status: 'active',
      });
      expect(registered).not.toHaveProperty('api_key');
      expect(registered.jwk).toEqual(expect.objectContaining({ kty: 'EC', x: pair.publicJwk.x }));
      const human = await user.run(
        ['keys', 'create', '--agent', agent.id, '--jwk', '-'],
        {},
        JSON.stringify(aKeyPair('EdDSA').publicJwk),
      );
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^registered public key \S+ for agent \S+ \(kid \S+, alg EdDSA\)$/m);
      expect(human.stdout).not.toMatch(/shown once/);

      // The key works: a client assertion signed with its private half gets a token.
      const token = await request(t.http)
        .post('/api/v1/auth/token')
        .type('form')
        .send({
          grant_type: 'client_credentials',
          ...assertionParams(await clientAssertion(pair, agent.id, t.base)),
        })
        .expect(200);
      expect(claimsOf(token.body.access_token as string).sub).toBe(agent.id);

      const privateFile = path.join(user.home, 'private.jwk.json');
      fs.writeFileSync(privateFile, JSON.stringify(aKeyPair('ES256').privateJwk));
      const refused = await user.run(['keys', 'create', '--agent', agent.id, '--jwk', privateFile]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/holds a private key \(d\).*nothing was sent/);
      expect(
        (
          await user.run([
            'keys',
            'create',
            '--agent',
            agent.id,
            '--jwk',
            path.join(user.home, 'missing.json'),
          ])
        ).code,
      ).toBe(2);
      const page = await user.json<{ items: { type: string }[] }>(['keys', 'ls', '--agent', agent.id]);
      expect(page.items.map((k) => k.type).sort()).toEqual(['public_key', 'public_key']);

      // rotate --jwk: the new public key replaces the old one (no grace: the old key stops at once).
      const next = aKeyPair('ES256');
      const nextFile = path.join(user.home, 'next.jwk.json');
      fs.writeFileSync(nextFile, JSON.stringify(next.publicJwk));
      const rotated = await user.json<{ id: string; type: string; previous: { id: string } }>([
        'keys',
        'rotate',
        registered.id as string,
        '--jwk',
        nextFile,
      ]);
      expect(rotated).toMatchObject({ type: 'public_key', previous: { id: registered.id } });
      const withNext = await request(t.http)
        .post('/api/v1/auth/token')
        .type('form')
        .send({
          grant_type: 'client_credentials',
          ...assertionParams(await clientAssertion(next, agent.id, t.base)),
        });
      expect(withNext.status).toBe(200);
      const withOld = await request(t.http)
        .post('/api/v1/auth/token')
        .type('form')
        .send({
          grant_type: 'client_credentials',
          ...assertionParams(await clientAssertion(pair, agent.id, t.base)),
        });
      expect(withOld.status).toBe(401);
    });
  });

  describe('delegations', () => {
    it('create (token shown once), ls, chain, revoke', async () => {
      const delegate = await user.json<{ id: string }>([
        'agents',
        'create',
        '--name',
        'delegate',
        '--scopes',
        'agents:read',
      ]);
      const human = await user.run([
        'delegations',
        'create',
        '--to',
        delegate.id,
        '--scopes',
        'agents:read',
        '--expires-in',
        '1h',
      ]);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/delegation token \(shown once, give it to the delegate\): \S+\.\S+\.\S+/);
      const created = await user.json<{ id: string }>([
        'delegations',
        'create',
        '--to',
        delegate.id,
        '--scopes',
        'agents:read',
        '--expires-in',
        '2h',
        '--max-depth',
        '1',
      ]);
      expect(created).not.toHaveProperty('delegation_token');
      const page = await user.json<{ items: { id: string }[] }>([
        'delegations',
        'ls',
        '--delegate',
        delegate.id,
      ]);
      expect(page.items.map((d) => d.id)).toContain(created.id);
      const chain = await user.json<{ valid: boolean; effective_scopes: string[] }>([
        'delegations',
        'chain',
        created.id,
      ]);
      expect(chain).toMatchObject({ valid: true, effective_scopes: ['agents:read'] });
      expect((await user.run(['delegations', 'chain', created.id])).stdout).toMatch(/valid\s+true/);
      expect(await user.json(['delegations', 'revoke', created.id])).toEqual({
        revoked_delegation_ids: [created.id],
      });
    });

    it('an escalation is exit 1 with the 403 detail; two expiries are exit 2', async () => {
      const narrow = await aTree(t, { allowed_scopes: ['agents:read', 'delegations:write'] });
      const delegate = await user.json<{ id: string }>([
        'agents',
        'create',
        '--name',
        'd2',
        '--scopes',
        'agents:read',
      ]);
      const other = new CliUser();
      try {
        const env = {
          AGENTAUTH_URL: t.base,
          AGENTAUTH_CLIENT_ID: narrow.agent.id,
          AGENTAUTH_CLIENT_SECRET: narrow.apiKey,
        };
        const denied = await other.run(
          ['delegations', 'create', '--to', delegate.id, '--scopes', 'agents:write', '--expires-in', '1h'],
          env,
        );
        expect(denied.code).toBe(1);
        expect(denied.stderr).toMatch(/HTTP (403|404)/);
      } finally {
        other.remove();
      }
      const both = await user.run([
        'delegations',
        'create',
        '--to',
        delegate.id,
        '--scopes',
        'agents:read',
        '--expires-in',
        '1h',
        '--expires-at',
        new Date(Date.now() + 60_000).toISOString(),
      ]);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('exactly one of --expires-in and --expires-at');
    });
  });

  describe('scopes', () => {
    it('create and ls', async () => {
      const name = `cli${randomUUID().slice(0, 6)}:read`;
      expect(await user.json(['scopes', 'create', name, '--description', 'read things'])).toMatchObject({
        name,
        built_in: false,
      });
      const page = await user.json<{ items: { name: string }[] }>(['scopes', 'ls', '--limit', '200']);
      expect(page.items.map((s) => s.name)).toEqual(expect.arrayContaining([name, 'agents:read']));
      expect((await user.run(['scopes', 'ls'])).stdout.split('\n')[0]).toMatch(
        /^NAME\s+BUILT_IN\s+DESCRIPTION$/,
      );
    });

    it('an invalid scope name is exit 1 with the validation detail', async () => {
      const result = await user.run(['scopes', 'create', 'Not A Scope']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/HTTP 400, request id/);
    });
  });

  describe('policies', () => {
    it('create, ls and evaluate (deny overrides)', async () => {
      const agent = await user.json<{ id: string }>([
        'agents',
        'create',
        '--name',
        'ruled',
        '--scopes',
        'agents:read,agents:write',
      ]);
      const policy = await user.json<{ id: string }>([
        'policies',
        'create',
        '--name',
        'no-writes',
        '--effect',
        'deny',
        '--actions',
        'agents:write',
        '--subjects',
        agent.id,
      ]);
      const page = await user.json<{ items: { id: string }[] }>(['policies', 'ls', '--effect', 'deny']);
      expect(page.items.map((p) => p.id)).toContain(policy.id);
      const denied = await user.json([
        'policies',
        'evaluate',
        '--agent',
        agent.id,
        '--action',
        'agents:write',
      ]);
      expect(denied).toMatchObject({
        decision: 'deny',
        reason: 'explicit_deny',
        matched_policies: [{ id: policy.id }],
      });
      const allowed = await user.run([
        'policies',
        'evaluate',
        '--agent',
        agent.id,
        '--action',
        'agents:read',
      ]);
      expect(allowed.stdout).toMatch(/^ALLOW \(scope_grant\) agents:read/);
    });

    it('an unknown effect is exit 2; evaluating for an unknown agent is exit 1', async () => {
      const usage = await user.run([
        'policies',
        'create',
        '--name',
        'x',
        '--effect',
        'maybe',
        '--actions',
        'a:b',
      ]);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('Allowed choices are allow, deny');
      const missing = await user.run(['policies', 'evaluate', '--agent', UNKNOWN, '--action', 'agents:read']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(REQUEST_ID);
    });
  });

  describe('resource-servers', () => {
    it('create, ls, get, update, delete', async () => {
      const scope = `rs${randomUUID().slice(0, 6)}:read`;
      await user.json(['scopes', 'create', scope]);
      const identifier = `https://cli-${randomUUID().slice(0, 8)}.example.com/mcp`;
      const created = await user.json<Record<string, unknown> & { id: string }>([
        'resource-servers',
        'create',
        identifier,
        '--name',
        'calendar',
        '--description',
        'the calendar API',
        '--scopes',
        scope,
        '--agent-id',
        root.agent.id,
        '--access-token-ttl',
        '300',
        '--dpop-required',
      ]);
      expect(created).toMatchObject({
        identifier,
        name: 'calendar',
        description: 'the calendar API',
        scopes: [scope],
        agent_id: root.agent.id,
        access_token_ttl_seconds: 300,
        dpop_required: true,
      });

      const table = await user.run(['resource-servers', 'ls']);
      expect(table.code).toBe(0);
      expect(table.stdout.split('\n')[0]).toMatch(
        /^ID\s+IDENTIFIER\s+NAME\s+SCOPES\s+AGENT_ID\s+DPOP_REQUIRED$/,
      );
      expect(table.stdout).toContain(identifier);
      const page = await user.json<{ items: { id: string }[] }>(['resource-servers', 'ls', '--limit', '200']);
      expect(page.items.map((r) => r.id)).toContain(created.id);
      expect(await user.json(['resource-servers', 'get', created.id])).toMatchObject({
        id: created.id,
        identifier,
      });

      const updated = await user.json([
        'resource-servers',
        'update',
        created.id,
        '--name',
        'calendar v2',
        '--no-dpop-required',
        '--access-token-ttl',
        '120',
      ]);
      expect(updated).toMatchObject({
        name: 'calendar v2',
        dpop_required: false,
        access_token_ttl_seconds: 120,
        scopes: [scope],
      });
      // The registered identifier is now a resource: a token for it has it as aud.
      const token = await requestToken(t, root, { resource: identifier }).expect(200);
      expect(claimsOf(token.body.access_token as string)).toMatchObject({ aud: identifier, scope });

      expect(await user.json(['resource-servers', 'delete', created.id])).toEqual({
        id: created.id,
        deleted: true,
      });
      const gone = await user.run(['resource-servers', 'get', created.id]);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(/HTTP 404/);
    });

    it('a management scope is exit 1 with the validation detail; nothing to update is exit 2', async () => {
      const refused = await user.run([
        'resource-servers',
        'create',
        `https://cli-${randomUUID().slice(0, 8)}.example.com/api`,
        '--name',
        'bad',
        '--scopes',
        'agents:read',
      ]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/HTTP 400, request id/);
      expect(refused.stderr).toMatch(/agents:read is a management API scope/);
      const json = await user.run([
        'resource-servers',
        'create',
        `https://cli-${randomUUID().slice(0, 8)}.example.com/api`,
        '--name',
        'bad',
        '--scopes',
        'agents:read',
        '--json',
      ]);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stderr)).toMatchObject({ status: 400, request_id: expect.any(String) });
      expect((await user.run(['resource-servers', 'update', UNKNOWN])).code).toBe(2);
      expect(
        (await user.run(['resource-servers', 'create', 'https://x.example.com', '--name', 'n'])).code,
      ).toBe(2);
    });
  });

  describe('webhooks', () => {
    it('create (secret shown once), ls, get, deliveries, delete', async () => {
      const human = await user.run([
        'webhooks',
        'create',
        'http://127.0.0.1:9/hook',
        '--events',
        'credential.revoked',
      ]);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/signing secret \(shown once, store it now\): \S+/);
      const created = await user.json<{ id: string; url: string }>([
        'webhooks',
        'create',
        'http://127.0.0.1:9/other',
        '--events',
        '*',
      ]);
      expect(created).not.toHaveProperty('secret');
      const page = await user.json<{ items: { id: string }[] }>(['webhooks', 'ls']);
      expect(page.items.map((w) => w.id)).toContain(created.id);
      expect(await user.json(['webhooks', 'get', created.id])).toMatchObject({
        id: created.id,
        url: 'http://127.0.0.1:9/other',
      });
      expect(await user.json(['webhooks', 'deliveries', created.id])).toMatchObject({
        items: expect.any(Array),
      });
      expect(await user.json(['webhooks', 'delete', created.id])).toEqual({ id: created.id, deleted: true });
      expect((await user.run(['webhooks', 'get', created.id])).code).toBe(1);
    });

    it('a non-http URL is exit 1 with the validation detail', async () => {
      const result = await user.run(['webhooks', 'create', 'ftp://example.com/x', '--events', '*']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/HTTP 400, request id/);
    });
  });

  describe('token', () => {
    it('get (bare token for $(…); hidden in --json unless asked), decode, introspect, revoke', async () => {
      const got = await user.run(['token', 'get', '--scope', 'agents:read']);
      expect(got.code).toBe(0);
      const token = got.stdout.trim();
      expect(claimsOf(token)).toMatchObject({ sub: root.agent.id, scope: 'agents:read' });
      const view = await user.json<Record<string, unknown>>(['token', 'get', '--scope', 'agents:read']);
      expect(view).toMatchObject({
        token_type: 'Bearer',
        scope: 'agents:read',
        expires_at: expect.any(String),
      });
      expect(view).not.toHaveProperty('access_token');
      expect(await user.json(['token', 'get', '--show-secrets'])).toHaveProperty('access_token');

      const decoded = await user.json<{ header: Record<string, unknown>; claims: Record<string, unknown> }>([
        'token',
        'decode',
        token,
      ]);
      expect(decoded).toMatchObject({
        header: { alg: 'RS256', typ: 'at+jwt' },
        claims: { sub: root.agent.id },
      });
      const fromStdin = await user.run(['token', 'decode', '-'], {}, `${token}\n`);
      expect(fromStdin.stdout).toMatch(/typ\s+at\+jwt/);

      expect(await user.json(['token', 'introspect', token])).toMatchObject({
        active: true,
        sub: root.agent.id,
      });
      expect(await user.json(['token', 'revoke', token])).toEqual({ revoked: true });
      expect(await user.json(['token', 'introspect', token])).toEqual({ active: false });
    });

    it('decoding something that is not a JWT is exit 2; a token for a revoked key is exit 1', async () => {
      const garbage = await user.run(['token', 'decode', 'not-a-jwt']);
      expect(garbage.code).toBe(2);
      expect(garbage.stderr).toContain('not a JWT');
      const refused = await user.run(['token', 'get', '--scope', 'no-such:scope']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^error: invalid_scope/);
    });
  });

  describe('audit and stats', () => {
    it('audit tail prints the latest events (JSON lines with --json), audit verify checks the chain', async () => {
      const tail = await user.run(['audit', 'tail', '-n', '3', '--json']);
      expect(tail.code).toBe(0);
      const lines = tail.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toHaveLength(3);
      expect(lines[0].seq).toBeLessThan(lines[2].seq);
      const human = await user.run(['audit', 'tail', '-n', '2']);
      expect(human.stdout.split('\n')[0]).toMatch(/^SEQ\s+OCCURRED_AT\s+EVENT_TYPE/);

      const verify = await user.json<{ valid: boolean; checked: number }>(['audit', 'verify']);
      expect(verify.valid).toBe(true);
      expect(verify.checked).toBeGreaterThan(0);
    });

    it('audit tail --follow prints events as they happen and stops on SIGINT with exit 0', async () => {
      const child = user.spawn([
        'audit',
        'tail',
        '--follow',
        '--interval',
        '1',
        '-n',
        '1',
        '--json',
        '--event-type',
        'agent.created',
      ]);
      const seen: Record<string, unknown>[] = [];
      let buffer = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const parts = buffer.split('\n');
        buffer = parts.pop()!;
        for (const line of parts) if (line) seen.push(JSON.parse(line));
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await waitFor(() => seen.length >= 1 || child.exitCode !== null, 10_000);
      const before = seen.length;
      const agent = await user.json<{ id: string }>([
        'agents',
        'create',
        '--name',
        `followed-${randomUUID().slice(0, 6)}`,
      ]);
      await waitFor(() => seen.some((e) => e.target_id === agent.id), 15_000);
      expect(seen.length).toBeGreaterThan(before);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    });

    it('stats shows the counts', async () => {
      const stats = await user.json<{ agents: { total: number } }>(['stats']);
      expect(stats.agents.total).toBeGreaterThan(0);
      expect((await user.run(['stats'])).stdout).toMatch(/agents\.total\s+\d+/);
    });

    it('a wrong admin key is exit 1 with the 401 detail; no admin key at all is exit 2', async () => {
      const wrong = await user.run(['stats'], { AGENTAUTH_ADMIN_KEY: 'wrong-admin-key' });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/HTTP 401, request id/);
      const none = await user.run(['audit', 'verify'], {
        AGENTAUTH_URL: t.base,
        AGENTAUTH_PROFILE: 'nobody',
      });
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('no admin key');
    });
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}
