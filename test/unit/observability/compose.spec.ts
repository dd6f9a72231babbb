import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';

/**
 * The deployment files, checked structurally (no Docker engine on these machines): compose files, the
 * Dockerfile and the configs they mount. Where Debian's validators are installed (`apt-get install
 * prometheus docker-compose`: promtool, docker-compose 1.29), the tests also run them on the shipped files;
 * without them the structural checks still run, and the summary line says which tools were used.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

// Some tests run an external validator (a Python or Go start-up, slow on a busy machine).
jest.setTimeout(120_000);

/** External validators: the path `which` found, or undefined when the tool is not installed. */
const toolPaths = new Map<string, string | undefined>();
function installedTool(name: string): string | undefined {
  if (!toolPaths.has(name)) {
    const which = spawnSync('which', [name], { encoding: 'utf8' });
    toolPaths.set(name, which.status === 0 ? which.stdout.trim() : undefined);
  }
  return toolPaths.get(name);
}

/** Runs a tool in the repository root with only `env` (plus PATH and HOME) in its environment. */
function runTool(
  tool: string,
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; output: string } {
  const result = spawnSync(tool, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), ...env },
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}${result.error ?? ''}` };
}

afterAll(() => {
  const used = [...toolPaths].map(([name, where]) => `${name}: ${where ?? 'not installed (skipped)'}`);
  console.info(`deployment file validators — ${used.join('; ') || 'none asked for'}`);
});

interface Service {
  image?: string;
  build?: { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  'x-healthcheck-reason'?: string;
  depends_on?: string[] | Record<string, { condition?: string }>;
  deploy?: { replicas?: number };
  container_name?: string;
  ports?: unknown[];
  volumes?: (string | { type: string; source: string; target: string })[];
  restart?: string;
  logging?: { driver?: string };
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
  user?: string;
  profiles?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

function loadCompose(file: string): ComposeFile {
  return parseYaml(read(file), { merge: true }) as ComposeFile;
}

/** Compose variable interpolation with an empty environment: defaults apply, required ones give a marker. */
function interpolate(value: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_]\w*)(?:(:?-)([^}]*)|(:?\?)([^}]*))?\}/g,
    (match, _name, dash, def) => {
      if (match === '$$') return '$';
      if (dash) return def as string;
      return '<required>';
    },
  );
}

const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|SECRET_KEY|API_KEY|_TOKEN|_AUTH|PRIVATE_KEY)$/;
/** `${VAR}`, `${VAR:?message}`, `${VAR?message}` or an empty default `${VAR:-}`: never a literal. */
const SECRET_REFERENCE = /^\$\{[A-Za-z_]\w*(?:(?::?\?)[^}]*|:?-)?\}$/;

/** Every `${NAME:?message}` / `${NAME?message}` in the file's values: compose refuses to start without them. */
function requiredVariables(node: unknown): Set<string> {
  const names = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const m of value.matchAll(/\$\{([A-Za-z_]\w*):?\?/g)) names.add(m[1]);
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(node);
  return names;
}

function environmentOf(service: Service): [string, string][] {
  const env = service.environment;
  if (!env) return [];
  if (Array.isArray(env)) {
    return env.map((entry) => {
      const index = entry.indexOf('=');
      return index < 0 ? [entry, ''] : [entry.slice(0, index), entry.slice(index + 1)];
    });
  }
  return Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]);
}

function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : value.split(/\s+/);
}

function dependsOn(service: Service): Record<string, string | undefined> {
  const deps = service.depends_on;
  if (!deps) return {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([k, v]) => [k, v?.condition]));
}

function hasHealthcheck(service: Service): boolean {
  const hc = service.healthcheck;
  return !!hc && hc.disable !== true && asList(hc.test).filter((t) => t !== 'NONE').length > 0;
}

/** Problems with an image reference: must be `name:tag` with a version-like tag (no `latest`, no bare name). */
function imageProblems(name: string, image: string | undefined): string[] {
  if (!image) return [`${name}: no image`];
  const resolved = interpolate(image);
  if (resolved.includes('@sha256:')) return [];
  const match = /^([^:@\s]+(?::\d+)?[^:@\s]*):([^:@\s]+)$/.exec(resolved);
  if (!match) return [`${name}: image "${image}" has no tag`];
  const tag = match[2];
  if (tag === 'latest' || !/\d/.test(tag))
    return [`${name}: image "${image}" is not pinned to a version (${tag})`];
  return [];
}

function healthProblems(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    const reason = service['x-healthcheck-reason'];
    if (!hasHealthcheck(service) && !(typeof reason === 'string' && reason.trim().length >= 20)) {
      problems.push(`${name}: no healthcheck and no x-healthcheck-reason`);
    }
    for (const [dep, condition] of Object.entries(dependsOn(service))) {
      const target = compose.services[dep];
      if (!target) problems.push(`${name}: depends on unknown service ${dep}`);
      else if (condition === 'service_healthy' && !hasHealthcheck(target)) {
        problems.push(`${name}: waits for ${dep} to be healthy, but ${dep} has no healthcheck`);
      }
    }
  }
  return problems;
}

describe('docker-compose.prod.yml', () => {
  const compose = loadCompose('docker-compose.prod.yml');
  const services = compose.services;
  const svc = (name: string) => {
    const service = services[name];
    if (!service) throw new Error(`service ${name} missing`);
    return service;
  };

  it('has the whole stack', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'alloy',
        'api',
        'grafana',
        'lb',
        'loki',
        'migrate',
        'postgres',
        'prometheus',
        'promtail',
        'redis',
        'tempo',
        'worker',
      ].sort(),
    );
  });

  it('starts Alloy by default; Promtail and Tempo only with their profiles', () => {
    const profiled = Object.entries(services)
      .filter(([, s]) => s.profiles !== undefined)
      .map(([name, s]) => [name, s.profiles]);
    expect(profiled).toEqual([
      ['promtail', ['promtail']],
      ['tempo', ['tracing']],
    ]);
    // Nothing that always runs may wait for a service that only runs with a profile.
    for (const [name, service] of Object.entries(services)) {
      if (service.profiles) continue;
      for (const dep of Object.keys(dependsOn(service))) {
        expect({ name, dep, profiles: services[dep].profiles }).toEqual({ name, dep, profiles: undefined });
      }
    }
  });

  it('passes only the standard OTEL_* variables to api and worker, tracing off by default', () => {
    for (const name of ['api', 'worker']) {
      const otel = environmentOf(svc(name)).filter(([k]) => k.startsWith('OTEL_'));
      expect(otel.map(([k]) => k).sort()).toEqual([
        'OTEL_EXPORTER_OTLP_ENDPOINT',
        'OTEL_TRACES_SAMPLER',
        'OTEL_TRACES_SAMPLER_ARG',
      ]);
      const endpoint = otel.find(([k]) => k === 'OTEL_EXPORTER_OTLP_ENDPOINT')![1];
      expect(interpolate(endpoint)).toBe('');
    }
    const tempo = parseYaml(read('deploy/tempo/tempo.yml')) as {
      distributor: { receivers: { otlp: { protocols: { http: { endpoint: string } } } } };
      server: { http_listen_port: number };
    };
    expect(tempo.distributor.receivers.otlp.protocols.http.endpoint).toBe('0.0.0.0:4318');
    expect(read('docs/observability.md')).toContain('OTEL_EXPORTER_OTLP_ENDPOINT=http://tempo:4318');
  });

  it('gives every service a healthcheck, or a documented reason in x-healthcheck-reason', () => {
    expect(healthProblems(compose)).toEqual([]);
    expect(hasHealthcheck(svc('migrate'))).toBe(false);
    expect(svc('migrate')['x-healthcheck-reason']).toMatch(/one-shot/i);
  });

  it('pins every image to a version (no latest, no untagged)', () => {
    const problems = Object.entries(services).flatMap(([name, s]) => imageProblems(name, s.image));
    expect(problems).toEqual([]);
    expect(imageProblems('x', 'redis')).not.toEqual([]);
    expect(imageProblems('x', 'redis:latest')).not.toEqual([]);
    expect(imageProblems('x', 'grafana/loki:${LOKI_TAG:-latest}')).not.toEqual([]);
    expect(imageProblems('x', 'redis:7.4.1-alpine')).toEqual([]);
  });

  it('runs api, worker and migrate from the one image built by deploy/Dockerfile, by command', () => {
    const app = ['api', 'worker', 'migrate'].map(svc);
    expect(new Set(app.map((s) => s.image)).size).toBe(1);
    for (const s of app) expect(s.build?.dockerfile).toBe('deploy/Dockerfile');
    expect(asList(svc('api').command)).toEqual(['node', 'dist/apps/api/src/main.js']);
    expect(asList(svc('worker').command)).toEqual(['node', 'dist/apps/worker/src/main.js']);
    expect(asList(svc('migrate').command)).toEqual(['node', 'dist/scripts/migrate.js', 'up']);
    expect(svc('migrate').restart).toBe('no');
  });

  it('starts api and worker only after the one-shot migration completed successfully', () => {
    for (const name of ['api', 'worker']) {
      expect(dependsOn(svc(name)).migrate).toBe('service_completed_successfully');
    }
    expect(dependsOn(svc('migrate')).postgres).toBe('service_healthy');
    expect(dependsOn(svc('api')).redis).toBe('service_healthy');
  });

  it('runs at least two scalable API replicas behind the load balancer', () => {
    const api = svc('api');
    expect(api.deploy?.replicas).toBeGreaterThanOrEqual(2);
    expect(api.container_name).toBeUndefined();
    expect(api.ports).toBeUndefined(); // a fixed host port would forbid a second replica
    expect(Object.keys(dependsOn(svc('lb')))).toContain('api');
    const nginx = read('deploy/nginx/nginx.conf');
    expect(nginx).toMatch(/set \$api_upstream http:\/\/api:8000;/);
    expect(nginx).toMatch(/location = \/metrics \{\s*return 404;/);
    expect(nginx).toMatch(/resolver 127\.0\.0\.11/);
  });

  it('believes X-Forwarded-For only from the load balancer address', () => {
    const trust = environmentOf(svc('api')).find(([k]) => k === 'TRUST_PROXY_CIDRS')?.[1];
    const lbNetworks = svc('lb').networks as Record<string, { ipv4_address?: string }>;
    const lbAddress = Object.values(lbNetworks)[0]?.ipv4_address;
    expect(lbAddress).toBeDefined();
    expect(interpolate(trust ?? '')).toBe(`${interpolate(lbAddress!)}/32`);
  });

  it('logs the API and worker in as the least-privilege role; only migrate holds the owner URL', () => {
    const urlUser = (service: string, key: string): string | undefined => {
      const value = environmentOf(svc(service)).find(([k]) => k === key)?.[1];
      return value === undefined ? undefined : new URL(interpolate(value)).username;
    };
    for (const service of ['api', 'worker', 'migrate']) {
      expect(urlUser(service, 'DATABASE_URL')).toBe('agentauth_app');
    }
    const owner = environmentOf(svc('postgres')).find(([k]) => k === 'POSTGRES_USER')?.[1];
    expect(owner).toBeDefined();
    expect(urlUser('migrate', 'MIGRATIONS_DATABASE_URL')).toBe(owner);
    expect(urlUser('api', 'MIGRATIONS_DATABASE_URL')).toBeUndefined();
    expect(urlUser('worker', 'MIGRATIONS_DATABASE_URL')).toBeUndefined();
  });

  it('runs PostgreSQL 16 with a volume and a pg_isready healthcheck', () => {
    const pg = svc('postgres');
    expect(interpolate(pg.image!)).toMatch(/^postgres:16[.-]/);
    expect(pg.volumes).toContain('pgdata:/var/lib/postgresql/data');
    expect(compose.volumes).toHaveProperty('pgdata');
    expect(asList(pg.healthcheck?.test).join(' ')).toContain('pg_isready');
  });

  it('runs Redis 7 with AOF on, no eviction, a password and a volume', () => {
    const redis = svc('redis');
    expect(interpolate(redis.image!)).toMatch(/^redis:7[.-]/);
    const args = asList(redis.command);
    const arg = (flag: string) => args[args.indexOf(flag) + 1];
    expect(args).toContain('--appendonly');
    expect(arg('--appendonly')).toBe('yes');
    expect(arg('--maxmemory-policy')).toBe('noeviction');
    expect(arg('--requirepass')).toMatch(SECRET_REFERENCE);
    expect(redis.volumes).toContain('redisdata:/data');
  });

  it('holds no secret literal: secrets are ${VAR} references, required where nothing works without them', () => {
    const problems: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of environmentOf(service)) {
        if (SECRET_NAME.test(key) && !SECRET_REFERENCE.test(value)) {
          problems.push(`${name}: ${key} is not a \${VAR} reference`);
        }
        const url = /^[a-z+]+:\/\/([^@/]*)@/.exec(value);
        if (url) {
          const password = url[1].includes(':') ? url[1].slice(url[1].indexOf(':') + 1) : '';
          if (!SECRET_REFERENCE.test(password)) problems.push(`${name}: ${key} has a literal password`);
        }
      }
      const args = [...asList(service.command), ...asList(service.entrypoint)];
      args.forEach((arg, i) => {
        if (/^--?(requirepass|password)$/.test(arg) && !SECRET_REFERENCE.test(args[i + 1] ?? '')) {
          problems.push(`${name}: ${arg} has a literal value`);
        }
      });
    }
    expect(problems).toEqual([]);

    const text = read('docker-compose.prod.yml');
    for (const secret of [
      'POSTGRES_PASSWORD',
      'APP_DB_PASSWORD',
      'REDIS_PASSWORD',
      'SECRET_KEY',
      'ADMIN_API_KEY',
      'METRICS_TOKEN',
      'GRAFANA_PASSWORD',
    ]) {
      expect(text).toContain(`\${${secret}:?`);
      expect(text).not.toMatch(new RegExp(`\\$\\{${secret}:-[^}]`)); // no default value for a secret
    }
    const exampleSecrets = read('.env.example')
      .split('\n')
      .filter((l) => /^(SECRET_KEY|ADMIN_API_KEY)=/.test(l))
      .map((l) => l.split('=')[1]);
    for (const example of exampleSecrets) expect(text).not.toContain(example);
  });

  it('is a valid compose file with its required variables set, refused without them (docker-compose when installed)', () => {
    const required = [...requiredVariables(compose)].sort();
    expect(required).toEqual([
      'ADMIN_API_KEY',
      'APP_DB_PASSWORD',
      'GRAFANA_PASSWORD',
      'METRICS_TOKEN',
      'POSTGRES_PASSWORD',
      'PUBLIC_BASE_URL',
      'REDIS_PASSWORD',
      'SECRET_KEY',
    ]);
    // Every required variable is documented as required in the deployment guide's table.
    const guide = read('docs/deployment.md');
    for (const name of required)
      expect(guide).toMatch(new RegExp(`^\\|[^|\\n]*\`${name}\`[^|\\n]*\\| yes \\|`, 'm'));

    const dockerCompose = installedTool('docker-compose');
    if (!dockerCompose) return;
    // An empty --env-file, so a developer's .env in the checkout cannot fill in what the test leaves out.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-check-'));
    const envFile = path.join(dir, 'empty.env');
    fs.writeFileSync(envFile, '');
    try {
      // Every profile on, so the resolved file lists every service (promtail and tempo included).
      const args = [
        '--env-file',
        envFile,
        '-f',
        'docker-compose.prod.yml',
        '--profile',
        'promtail',
        '--profile',
        'tracing',
        'config',
      ];
      const dummies = Object.fromEntries(required.map((name) => [name, `dummy-${name.toLowerCase()}`]));
      dummies.PUBLIC_BASE_URL = 'https://auth.example.com';
      const valid = runTool(dockerCompose, args, dummies);
      expect({ status: valid.status, output: valid.status === 0 ? '' : valid.output }).toEqual({
        status: 0,
        output: '',
      });
      // What docker-compose resolved (anchors, merge keys, interpolation) is the stack this test checks.
      const resolved = parseYaml(valid.output) as ComposeFile;
      expect(Object.keys(resolved.services).sort()).toEqual(Object.keys(services).sort());
      for (const [name, service] of Object.entries(services)) {
        expect({ name, image: resolved.services[name].image }).toEqual({
          name,
          image: interpolate(service.image ?? ''),
        });
      }

      const missing = runTool(dockerCompose, args, { ...dummies, SECRET_KEY: '' });
      expect(missing.status).not.toBe(0);
      expect(missing.output).toContain('set SECRET_KEY');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the secret checks catch literals', () => {
    expect(SECRET_REFERENCE.test('${SECRET_KEY}')).toBe(true);
    expect(SECRET_REFERENCE.test('${SECRET_KEY:?set it}')).toBe(true);
    expect(SECRET_REFERENCE.test('${BOOTSTRAP_TOKEN:-}')).toBe(true);
    expect(SECRET_REFERENCE.test('${SECRET_KEY:-changeme}')).toBe(false);
    expect(SECRET_REFERENCE.test('hunter2')).toBe(false);
    expect(SECRET_REFERENCE.test('prefix-${SECRET_KEY}')).toBe(false);
  });

  it('opens Grafana as admin with ${GRAFANA_PASSWORD} and provisions the datasources and the dashboard', () => {
    const env = Object.fromEntries(environmentOf(svc('grafana')));
    expect(env.GF_SECURITY_ADMIN_USER).toBe('admin');
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_PASSWORD:\?/);
    const mounts = (svc('grafana').volumes ?? []).map(String);
    const mountTarget = (source: string) => mounts.find((m) => m.startsWith(`${source}:`))?.split(':')[1];
    expect(mountTarget('./deploy/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    const dashboardsDir = mountTarget('./deploy/grafana/dashboards');

    const provider = parseYaml(read('deploy/grafana/provisioning/dashboards/dashboards.yml')) as {
      providers: { type: string; options: { path: string } }[];
    };
    expect(provider.providers.map((p) => p.options.path)).toContain(dashboardsDir);
    expect(env.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${dashboardsDir}/agentauth-operations.json`);

    const datasources = parseYaml(read('deploy/grafana/provisioning/datasources/datasources.yml')) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    const byUid = new Map(datasources.datasources.map((d) => [d.uid, d]));
    expect(byUid.get('loki')).toMatchObject({ type: 'loki', url: 'http://loki:3100' });
    expect(byUid.get('prometheus')).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    // Logs ↔ traces: a log line's trace_id links to the tempo datasource, a span back to its log lines.
    expect(byUid.get('tempo')).toMatchObject({ type: 'tempo', url: 'http://tempo:3200' });
    const loki = byUid.get('loki') as unknown as {
      jsonData: { derivedFields: { matcherRegex: string; datasourceUid: string; url: string }[] };
    };
    const link = loki.jsonData.derivedFields.find((f) => f.datasourceUid === 'tempo');
    expect(link?.url).toBe('$${__value.raw}'); // `$$`: a literal `$` in Grafana provisioning files
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const line = `{"level":"info","request_id":"r1","trace_id":"${traceId}","span_id":"00f067aa0ba902b7"}`;
    expect(new RegExp(link!.matcherRegex).exec(line)?.[1]).toBe(traceId);
    const tempo = byUid.get('tempo') as unknown as {
      jsonData: { tracesToLogsV2: { datasourceUid: string; query: string } };
    };
    expect(tempo.jsonData.tracesToLogsV2.datasourceUid).toBe('loki');
    expect(tempo.jsonData.tracesToLogsV2.query).toContain('trace_id="$${__trace.traceId}"');
    const dashboard = JSON.parse(read('deploy/grafana/dashboards/agentauth-operations.json')) as {
      title: string;
      panels: { targets?: { datasource: { uid: string; type: string } }[] }[];
    };
    expect(dashboard.title).toBe('AgentAuth Operations');
    for (const target of dashboard.panels.flatMap((p) => p.targets ?? [])) {
      expect(byUid.get(target.datasource.uid)?.type).toBe(target.datasource.type);
    }
  });

  it('mounts only files that exist in the repository', () => {
    const missing: string[] = [];
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
        if (source.startsWith('./') && !fs.existsSync(path.join(ROOT, source)))
          missing.push(`${name}: ${source}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has Prometheus scrape /metrics of every api replica with the METRICS_TOKEN file the entrypoint writes', () => {
    const prom = parseYaml(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: {
        job_name: string;
        metrics_path?: string;
        dns_sd_configs?: { names: string[]; port: number }[];
        authorization?: { type: string; credentials_file: string };
      }[];
    };
    const api = prom.scrape_configs.find((s) => s.job_name === 'agentauth-api');
    expect(api?.metrics_path).toBe('/metrics');
    expect(api?.dns_sd_configs?.[0]).toMatchObject({ names: ['api'], port: 8000 });
    expect(api?.authorization?.type).toBe('Bearer');
    const command = asList(svc('prometheus').command).join(' ');
    expect(command).toContain(`> ${api?.authorization?.credentials_file}`);
    expect(command).toContain('$$METRICS_TOKEN');
    expect(command).toMatch(/--storage\.tsdb\.retention\.time=/);
    expect(environmentOf(svc('prometheus'))).toContainEqual([
      'METRICS_TOKEN',
      expect.stringMatching(SECRET_REFERENCE),
    ]);

    // Debian's `prometheus` package ships promtool. --syntax-only: the token file exists only in the container.
    const promtool = installedTool('promtool');
    if (promtool) {
      const check = runTool(promtool, [
        'check',
        'config',
        '--syntax-only',
        'deploy/prometheus/prometheus.yml',
      ]);
      expect({ status: check.status, output: check.output }).toEqual({
        status: 0,
        output: expect.stringContaining('SUCCESS'),
      });
    }
  });

  it("has Alloy (and Promtail) read the containers' json-file logs read-only and push to the loki service", () => {
    for (const collector of ['alloy', 'promtail']) {
      expect(svc(collector).volumes).toContain('/var/lib/docker/containers:/var/lib/docker/containers:ro');
      expect(dependsOn(svc(collector)).loki).toBe('service_healthy');
    }
    for (const [name, service] of Object.entries(services)) {
      expect({ name, driver: service.logging?.driver }).toEqual({ name, driver: 'json-file' });
    }
    const config = parseYaml(read('deploy/promtail/promtail.yml')) as {
      clients: { url: string }[];
      scrape_configs: { static_configs: { labels: Record<string, string> }[] }[];
    };
    expect(config.clients[0].url).toBe('http://loki:3100/loki/api/v1/push');
    expect(config.scrape_configs[0].static_configs[0].labels.__path__).toMatch(
      /^\/var\/lib\/docker\/containers\//,
    );
  });

  it('configures Loki retention through the compactor, as a multiple of the index period', () => {
    const loki = parseYaml(read('deploy/loki/loki.yml')) as {
      limits_config: { retention_period: string };
      compactor: { retention_enabled: boolean; delete_request_store: string };
      schema_config: { configs: { index: { period: string } }[] };
    };
    const hours = (d: string) => Number(/^(\d+)h$/.exec(d)?.[1]);
    expect(loki.compactor.retention_enabled).toBe(true);
    expect(loki.compactor.delete_request_store).toBe('filesystem');
    const retention = hours(loki.limits_config.retention_period);
    const period = hours(loki.schema_config.configs.at(-1)!.index.period);
    expect(retention).toBeGreaterThanOrEqual(24 * 7);
    expect(retention % period).toBe(0);
    expect(read('docs/deployment.md')).toContain(loki.limits_config.retention_period);
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = read('deploy/Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('is multi-stage on a pinned node bookworm-slim image', () => {
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(base).toMatch(/^node:20\.\d+\.\d+-bookworm-slim$/);
    const froms = instructions.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(3);
    for (const from of froms)
      expect(from).toMatch(/^FROM (\$\{NODE_IMAGE\}|deps|build|prod-deps)( AS \S+)?$/);
  });

  it('installs production dependencies only in the runtime and runs as a non-root user', () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
    expect(runtime).toMatch(/COPY --from=prod-deps \/app\/node_modules/);
    expect(runtime).not.toMatch(/COPY --from=deps/);
    const user = /^USER (\S+)$/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });

  it('checks /health without curl and starts the API by default', () => {
    const healthcheck = instructions.find((l) => l.startsWith('HEALTHCHECK'));
    expect(healthcheck).toMatch(/\/health/);
    expect(healthcheck).toMatch(/"node", "-e"/);
    expect(healthcheck).toMatch(/fetch\(/);
    expect(instructions.at(-1)).toBe('CMD ["node", "dist/apps/api/src/main.js"]');
  });

  it('copies only sources that exist, none of them ignored by .dockerignore', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#') && !l.startsWith('!'));
    for (const entry of ['node_modules', '.env', '.git', 'dist', 'test']) expect(ignored).toContain(entry);
    const sources = instructions
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) {
      expect({ source, exists: fs.existsSync(path.join(ROOT, source)) }).toEqual({ source, exists: true });
      expect(ignored).not.toContain(source);
    }
  });

  it('has the entry points compose runs (api, worker, migrate, worker healthcheck) among the compiled sources', () => {
    for (const source of [
      'apps/api/src/main.ts',
      'apps/worker/src/main.ts',
      'scripts/migrate.ts',
      'scripts/worker-healthcheck.ts',
    ]) {
      expect(fs.existsSync(path.join(ROOT, source))).toBe(true);
    }
    const worker = loadCompose('docker-compose.prod.yml').services.worker;
    expect(asList(worker.healthcheck?.test)).toContain('dist/scripts/worker-healthcheck.js');
  });
});

describe('docker-compose.yml (development dependencies)', () => {
  const compose = loadCompose('docker-compose.yml');

  it('pins every image and gives every service a healthcheck', () => {
    expect(Object.entries(compose.services).flatMap(([name, s]) => imageProblems(name, s.image))).toEqual([]);
    expect(healthProblems(compose)).toEqual([]);
  });

  it('keeps Redis AOF on', () => {
    const args = asList(compose.services.redis.command);
    expect(args[args.indexOf('--appendonly') + 1]).toBe('yes');
  });

  it('is a valid compose file (docker-compose when installed)', () => {
    const dockerCompose = installedTool('docker-compose');
    if (!dockerCompose) return;
    const result = runTool(dockerCompose, ['-f', 'docker-compose.yml', 'config', '-q'], {});
    expect({ status: result.status, output: result.output }).toEqual({ status: 0, output: '' });
  });
});
