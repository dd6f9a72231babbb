import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { freePort, waitForReady } from '../../support/api-process';
import { OtlpReceiver, type ReceivedSpan } from '../../support/otlp-receiver';
import { embeddedTestMode } from '../../support/embedded-test-env';
import { eventually } from '../../support/webhook-receiver';
import { ensureWorkerBuild, isolatedRedisPrefix, WorkerProcess } from '../../support/worker-process';

/**
 * OpenTelemetry traces end to end: the COMPILED API (tracing is loaded before anything else, as in
 * production) exports to a real OTLP/HTTP receiver running in this test process. One token request's spans
 * are checked by name, parent/child relation and attributes; its log lines carry the trace; no exported
 * attribute holds the key or the token. And with OTEL_EXPORTER_OTLP_ENDPOINT unset nothing of the SDK loads.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const SERVER = 2; // SpanKind.SERVER in OTLP
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;

jest.setTimeout(120_000);

describe('OpenTelemetry traces of a token request (compiled API → in-process OTLP/HTTP receiver)', () => {
  const receiver = new OtlpReceiver();
  let api: WorkerProcess | undefined;
  let baseUrl = '';
  let root: { id: string; apiKey: string } | undefined;
  const secrets: string[] = [];

  beforeAll(async () => {
    await ensureWorkerBuild();
    const endpoint = await receiver.start();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/apps/api/src/main.js')], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_BASE_URL: baseUrl,
        API_WORKERS: '1',
        LOG_LEVEL: 'info',
        REDIS_KEY_PREFIX: isolatedRedisPrefix('tracing'),
        // Only standard OpenTelemetry variables: where to export, in JSON, without waiting 5 s per batch.
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    api = new WorkerProcess(child);
    await waitForReady(baseUrl, api, 'the traced API');

    const boot = await fetch(`${baseUrl}/api/v1/agents/bootstrap`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'traced-root' }),
    });
    expect(boot.status).toBe(201);
    const body = (await boot.json()) as { agent: { id: string }; credential: { api_key: string } };
    root = { id: body.agent.id, apiKey: body.credential.api_key };
    secrets.push(root.apiKey, ...root.apiKey.split(/[._]/).filter((part) => part.length >= 16));
  });

  afterAll(async () => {
    await api?.kill();
    await receiver.stop();
  });

  async function tokenRequest(requestId: string): Promise<string> {
    const res = await fetch(`${baseUrl}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Request-ID': requestId },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: root!.id,
        client_secret: root!.apiKey,
      }).toString(),
    });
    const body = (await res.json()) as { access_token: string };
    expect(res.status).toBe(200);
    secrets.push(body.access_token, ...body.access_token.split('.'));
    return body.access_token;
  }

  /** The spans of the trace whose server span answered `requestId`, once its audit batch was exported. */
  async function traceOf(requestId: string): Promise<ReceivedSpan[]> {
    return eventually(async () => {
      const server = receiver.spans.find(
        (s) => s.kind === SERVER && s.attributes['agentauth.request_id'] === requestId,
      );
      if (!server) return undefined;
      const spans = receiver.spans.filter((s) => s.traceId === server.traceId);
      return spans.some((s) => s.name === 'audit.group_commit') ? spans : undefined;
    });
  }

  const one = (spans: ReceivedSpan[], name: string, where: Record<string, unknown> = {}) => {
    const found = spans.filter(
      (s) => s.name === name && Object.entries(where).every(([k, v]) => s.attributes[k] === v),
    );
    expect({ name, count: found.length }).toEqual({ name, count: 1 });
    return found[0];
  };
  const parentOf = (spans: ReceivedSpan[], span: ReceivedSpan) =>
    spans.find((s) => s.spanId === span.parentSpanId);
  /** True when `ancestor` is on the parent chain of `span`. */
  const descendsFrom = (spans: ReceivedSpan[], span: ReceivedSpan, ancestor: ReceivedSpan): boolean => {
    for (let p = parentOf(spans, span); p; p = parentOf(spans, p))
      if (p.spanId === ancestor.spanId) return true;
    return false;
  };

  it('exports the spans of one token request with their parents and attributes; its log lines carry the trace', async () => {
    const requestId = `trace-${randomBytes(6).toString('hex')}`;
    await tokenRequest(requestId);
    const spans = await traceOf(requestId);

    const server = spans.find((s) => s.kind === SERVER)!;
    expect(server.parentSpanId).toBeUndefined(); // the trace starts at the HTTP server span
    expect(server.traceId).toMatch(HEX32);
    expect(server.attributes['http.route']).toBe('/api/v1/auth/token');
    expect(server.resource['service.name']).toBe('agentauth-api');

    const token = one(spans, 'oauth.token');
    expect(descendsFrom(spans, token, server)).toBe(true);
    expect(token.attributes).toMatchObject({
      'agentauth.request_id': requestId,
      'oauth.grant_type': 'client_credentials',
      'agentauth.agent_id': root!.id,
    });

    const clientAuth = one(spans, 'oauth.client_authentication');
    expect(clientAuth.parentSpanId).toBe(token.spanId);
    expect(clientAuth.attributes).toMatchObject({
      'oauth.endpoint': 'token',
      'oauth.client_auth.method': 'client_secret_post',
      'oauth.client_auth.cached': false,
      'agentauth.agent_id': root!.id,
    });
    // The first request for this key is a full verification: argon2 is a span of its own, under client auth.
    const argon2 = one(spans, 'argon2.verify');
    expect(descendsFrom(spans, argon2, clientAuth)).toBe(true);
    expect(argon2.attributes['argon2.dummy']).toBe(false);
    expect(argon2.attributes['argon2.time_cost']).toEqual(expect.any(Number));

    const grant = one(spans, 'oauth.grant');
    expect(grant.parentSpanId).toBe(token.spanId);
    expect(grant.attributes['oauth.grant_type']).toBe('client_credentials');
    const policy = one(spans, 'policy.evaluate');
    expect(descendsFrom(spans, policy, grant)).toBe(true);
    expect(policy.attributes['policy.scopes_requested']).toEqual(expect.any(Number));
    expect(policy.attributes['policy.scopes_denied']).toBe(0);

    // The grant waits for its audit event's group commit; the batch span links to that wait.
    const record = one(spans, 'audit.record', { 'audit.event_type': 'token.issued' });
    expect(descendsFrom(spans, record, grant)).toBe(true);
    const batches = receiver.spans.filter(
      (s) => s.name === 'audit.group_commit' && s.links.some((l) => l.spanId === record.spanId),
    );
    expect(batches).toHaveLength(1);
    expect(batches[0].links).toContainEqual({ traceId: record.traceId, spanId: record.spanId });
    expect(batches[0].attributes['audit.batch_size']).toBeGreaterThanOrEqual(1);

    // The instrumented libraries: PostgreSQL queries (and Redis commands when Redis is the real server).
    const queries = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) expect(descendsFrom(spans, q, server)).toBe(true);
    if (!embeddedTestMode()) {
      expect(spans.filter((s) => s.attributes['db.system.name'] === 'redis').length).toBeGreaterThan(0);
    }

    // Every log line of the request: the request id the server span carries, and the trace and a span of it.
    const lines = api!.lines.filter((l) => l.request_id === requestId);
    expect(lines.map((l) => l.msg)).toContain('request completed');
    const spanIds = new Set(spans.map((s) => s.spanId));
    for (const line of lines) {
      expect({ msg: line.msg, trace_id: line.trace_id }).toEqual({ msg: line.msg, trace_id: server.traceId });
      expect(line.span_id).toMatch(HEX16);
      expect(spanIds.has(line.span_id as string)).toBe(true);
    }
    expect(server.attributes['agentauth.request_id']).toBe(requestId);

    // Grafana's Loki datasource turns that trace_id into a link to the trace (deploy/grafana/provisioning).
    const datasources = parseYaml(
      fs.readFileSync(path.join(ROOT, 'deploy/grafana/provisioning/datasources/datasources.yml'), 'utf8'),
    ) as { datasources: { uid: string; jsonData?: { derivedFields?: { matcherRegex: string }[] } }[] };
    const matcher = datasources.datasources.find((d) => d.uid === 'loki')!.jsonData!.derivedFields![0];
    const completed = lines.find((l) => l.msg === 'request completed')!;
    expect(new RegExp(matcher.matcherRegex).exec(JSON.stringify(completed))?.[1]).toBe(server.traceId);
  });

  it('traces the revocation check of a cached client authentication', async () => {
    const requestId = `trace-${randomBytes(6).toString('hex')}`;
    await tokenRequest(requestId);
    const spans = await traceOf(requestId);
    const clientAuth = one(spans, 'oauth.client_authentication');
    expect(clientAuth.attributes['oauth.client_auth.cached']).toBe(true);
    expect(spans.filter((s) => s.name === 'argon2.verify')).toEqual([]);
    const check = one(spans, 'revocation.check');
    expect(descendsFrom(spans, check, clientAuth)).toBe(true);
    expect(check.attributes).toMatchObject({
      'revocation.revoked': false,
      'revocation.refs': expect.any(Number),
    });
    expect(['redis', 'database']).toContain(check.attributes['revocation.source']);
  });

  it('exports no secret: no span attribute, event or link holds the API key, the token or a part of them', () => {
    expect(receiver.refused).toEqual([]);
    expect(receiver.bodies.length).toBeGreaterThan(0);
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    const exported = receiver.bodies.join('\n');
    for (const secret of secrets) expect({ found: exported.includes(secret) }).toEqual({ found: false });
    // The scan would see them: a span attribute holding the key would be in these bodies verbatim.
    expect(exported).toContain(root!.id);
    // Nor in any log line the API printed.
    const logged = api!.lines.map((l) => JSON.stringify(l)).join('\n');
    for (const secret of secrets) expect({ logged: logged.includes(secret) }).toEqual({ logged: false });
  });
});

describe('tracing off (OTEL_EXPORTER_OTLP_ENDPOINT unset)', () => {
  /** The @opentelemetry packages the compiled API has loaded once its modules are all required. */
  function loadedOtelPackages(env: Record<string, string>): Promise<string[]> {
    const script = [
      "require('./dist/apps/api/src/tracing.js');",
      "require('./dist/apps/api/src/api.module.js');",
      'const names = Object.keys(require.cache).map((f) => /node_modules\\/(@opentelemetry\\/[^/]+)/.exec(f)?.[1]).filter(Boolean);',
      'console.log(JSON.stringify([...new Set(names)].sort()));',
    ].join('\n');
    const base = { ...process.env };
    for (const name of Object.keys(base)) if (name.startsWith('OTEL_')) delete base[name];
    return new Promise((resolve, reject) =>
      execFile(process.execPath, ['-e', script], { cwd: ROOT, env: { ...base, ...env } }, (error, stdout) =>
        error
          ? reject(new Error(error.message))
          : resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as string[]),
      ),
    );
  }

  it('loads only the no-op @opentelemetry/api: no SDK, exporter or instrumentation, nothing patched', async () => {
    await ensureWorkerBuild();
    expect(await loadedOtelPackages({})).toEqual(['@opentelemetry/api']);
    expect(await loadedOtelPackages({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toEqual(['@opentelemetry/api']);
    // The same probe sees the SDK when the variable is set (so the check above can fail).
    const on = await loadedOtelPackages({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
    expect(on).toEqual(
      expect.arrayContaining([
        '@opentelemetry/sdk-node',
        '@opentelemetry/instrumentation-http',
        '@opentelemetry/instrumentation-express',
        '@opentelemetry/instrumentation-pg',
        '@opentelemetry/instrumentation-ioredis',
        '@opentelemetry/instrumentation-pino',
      ]),
    );
  });
});
