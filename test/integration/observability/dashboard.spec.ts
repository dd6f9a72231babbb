import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { levels } from 'pino';
import request from 'supertest';
import { parse as parseYaml } from 'yaml';
import { Metrics } from '@agentauth/observability';
import { createTestApp, type TestApp } from '../../support/app';
import { logCapture } from '../../support/log-capture';
import {
  analyzeLogQL,
  interpolateGrafanaVariables,
  type LogQLAnalysis,
  logqlBlocks,
  matchesAny,
  valueMatchers,
} from '../../support/logql';
import {
  aChildCaller,
  aToken,
  aTree,
  API,
  bearer,
  requestToken,
  withFreshToken,
} from '../../factories/agents';
import { revokeToken } from '../auth/auth-helpers';
import { parsePrometheusText } from './prometheus-text';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DASHBOARD_FILE = path.join(ROOT, 'deploy/grafana/dashboards/agentauth-operations.json');
const DEPLOYMENT_DOC = path.join(ROOT, 'docs/deployment.md');
const PROMTAIL_FILE = path.join(ROOT, 'deploy/promtail/promtail.yml');

/**
 * Fields of the `msg: "audit event"` lines the audit module will log (event_type, outcome, actor_agent_id,
 * root_agent_id). That module is being built in parallel, so no such line exists yet: the dashboard's audit
 * panels are written against these names and this list lets them pass meanwhile. Once the audit module logs
 * them, the stale-entry test below fails: then delete them here (and the list, when empty), so every
 * audit field is checked against real lines like the access-log fields are.
 */
const FIELDS_FROM_AUDIT_EVENTS: string[] = [];
const AUDIT_EVENT_MSG = 'audit event';

/** Labels Loki adds or computes itself, never read from a line. */
const LOKI_BUILT_IN_LABELS = new Set(['__error__', '__error_details__', '__line__', '__timestamp__']);
/**
 * Fields whose values are open-ended ids (`agent_id`, `request_id`, ...): a query's value for them is an
 * example to replace (docs/deployment.md), not a vocabulary word. Every other field's values are checked.
 */
const OPEN_VALUED_FIELD = /_id$/;

/** The per-agent limit of one agent of the traffic below: low, so it reaches a real 429. */
const AGENT_LIMIT = 3;

/** Labels Prometheus attaches to every scraped series, and the histogram bucket label. */
const PROMETHEUS_TARGET_LABELS = new Set(['job', 'instance', 'le']);

interface Target {
  refId: string;
  expr: string;
  datasource: { type: string; uid: string };
}
interface Panel {
  id: number;
  title: string;
  type: string;
  targets?: Target[];
}
interface Dashboard {
  title: string;
  uid: string;
  panels: Panel[];
  templating: {
    list: {
      name: string;
      allValue?: string;
      definition?: string;
      query?: { label: string; stream: string };
    }[];
  };
}

/** The service names the processes log under (`CoreModule.forRoot({ serviceName })` in apps/). */
function serviceNamesInSource(): string[] {
  return ['api', 'worker'].flatMap((app) => {
    const dir = path.join(ROOT, 'apps', app, 'src');
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.module.ts'))
      .flatMap((f) => [...fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/serviceName: '([^']+)'/g)])
      .map((m) => m[1]);
  });
}

const dashboard = JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
/** Grafana replaces `$environment` with the selected values; "All" is the allValue regex. */
const variables = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v.allValue ?? '.+']));

function targets(uid: 'loki' | 'prometheus'): { where: string; expr: string }[] {
  return dashboard.panels.flatMap((panel) =>
    (panel.targets ?? [])
      .filter((t) => t.datasource.uid === uid)
      .map((t) => ({ where: `panel "${panel.title}" ${t.refId}`, expr: t.expr })),
  );
}

/** The template variables that list a label's values, with the stream selector they ask Loki about. */
const labelValueVariables = dashboard.templating.list.flatMap((v) =>
  v.query ? [{ name: v.name, label: v.query.label, stream: v.query.stream, definition: v.definition }] : [],
);

const lokiQueries = [
  ...targets('loki'),
  ...labelValueVariables.map((v) => ({ where: `template variable "${v.name}" selector`, expr: v.stream })),
  ...logqlBlocks(fs.readFileSync(DEPLOYMENT_DOC, 'utf8')).map((expr, i) => ({
    where: `docs/deployment.md logql block #${i + 1}`,
    expr,
  })),
];

/** Stream labels the Promtail pipeline sets, and the log field each one is read from (undefined: static). */
function promtailLabels(): { labels: Map<string, string | undefined>; dropSelectors: string[] } {
  const config = parseYaml(fs.readFileSync(PROMTAIL_FILE, 'utf8')) as {
    scrape_configs: {
      static_configs?: { labels?: Record<string, string> }[];
      pipeline_stages?: Record<string, unknown>[];
    }[];
  };
  const labels = new Map<string, string | undefined>();
  const dropSelectors: string[] = [];
  for (const scrape of config.scrape_configs) {
    labels.set('filename', undefined); // Promtail's own label for file targets
    for (const sc of scrape.static_configs ?? []) {
      for (const name of Object.keys(sc.labels ?? {}))
        if (!name.startsWith('__')) labels.set(name, undefined);
    }
    const extracted = new Map<string, string>();
    for (const stage of scrape.pipeline_stages ?? []) {
      if ('docker' in stage) labels.set('stream', undefined);
      if ('json' in stage) {
        const expressions = (stage.json as { expressions: Record<string, string | null> }).expressions;
        for (const [name, source] of Object.entries(expressions)) extracted.set(name, source ?? name);
      }
      if ('labels' in stage) {
        for (const [name, source] of Object.entries(stage.labels as Record<string, string | null>)) {
          const key = source ?? name;
          labels.set(name, extracted.get(key) ?? key);
        }
      }
      if ('labeldrop' in stage) for (const name of stage.labeldrop as string[]) labels.delete(name);
      if ('match' in stage) {
        const match = stage.match as { selector: string; action?: string };
        if (match.action === 'drop') dropSelectors.push(match.selector);
      }
    }
  }
  return { labels, dropSelectors };
}

describe('AgentAuth Operations dashboard and docs/deployment.md LogQL', () => {
  const metricsToken = `dash-${randomUUID()}`;
  let t: TestApp;
  let apiLines: Record<string, unknown>[];
  let fieldsByMsg: Map<string, Set<string>>;
  let allFields: Set<string>;

  /**
   * Values of `field` (as Loki's json stage sees them: absent or null is "") in the API lines, only those
   * with one of `msgs` when given; plus the closed sets a run cannot show all of: pino's level names and
   * the worker's service name (no worker runs in this test).
   */
  const loggedValues = (field: string, msgs: string[]): string[] => {
    const lines = msgs.length > 0 ? apiLines.filter((l) => msgs.includes(String(l.msg))) : apiLines;
    const values = lines.map((l) => {
      const value = l[field];
      if (value === undefined || value === null) return '';
      return typeof value === 'string' ? value : JSON.stringify(value);
    });
    if (field === 'level') values.push(...Object.values(levels.labels));
    if (field === 'service_name') values.push(...serviceNamesInSource());
    return values;
  };
  const auditPending = () => FIELDS_FROM_AUDIT_EVENTS.length > 0;

  beforeAll(async () => {
    t = await createTestApp({ METRICS_TOKEN: metricsToken });
    const agent = request(t.http);
    // Real traffic: 200s, 404s, 401s, a 403, a 429, a body-parser 400, and every audit event type and outcome
    // the queries select on (the value test below accepts only values these lines really carry).
    await agent.get('/health').expect(200);
    await agent.get('/ready').expect(200);
    await agent.get('/api/v1/no-such-route').expect(404);
    await agent.get('/metrics').set('Authorization', `Bearer ${metricsToken}`).expect(200);
    await agent.get('/metrics').expect(401);
    await agent.get(`${API}/agents/${randomUUID()}`).expect(401);
    await agent.get(`${API}/agents`).set(bearer('not-a-real-token')).expect(401); // client_auth.failed
    await agent
      .post(`${API}/auth/token`)
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: randomUUID(), client_secret: 'wrong' })
      .expect(401); // client_auth.failed
    await agent.post('/api/v1/anything').set('Content-Type', 'application/json').send('{"x": ').expect(400);

    const root = await aTree(t); // token.issued
    await requestToken(t, root, { scope: 'no-such:scope' }).expect(400); // token.issue_failed
    const offline = await requestToken(t, root, { scope: 'agents:read offline_access' }).expect(200);
    const rotate = { grant_type: 'refresh_token', refresh_token: offline.body.refresh_token as string };
    await requestToken(t, root, rotate).expect(200);
    await requestToken(t, root, rotate).expect(400); // refresh_token.reuse_detected
    await revokeToken(t, root, root.accessToken).expect(200); // token.revoked
    const narrow = await aToken(t, root, { scope: 'credentials:read' });
    await agent.get(`${API}/agents`).set(bearer(narrow)).expect(403);
    // An agent throttled to AGENT_LIMIT/min; its key's first token was already one call of its window (token
    // requests count against the agent, issue 17).
    const busy = await aChildCaller(t, await withFreshToken(t, root), {
      allowed_scopes: ['agents:read'],
      rate_limit_per_minute: AGENT_LIMIT,
    });
    for (let i = 1; i < AGENT_LIMIT; i++) await agent.get(`${API}/agents`).set(busy.auth).expect(200);
    await agent.get(`${API}/agents`).set(busy.auth).expect(429); // rate_limit.exceeded

    apiLines = logCapture.lines.filter((l) => l.service_name === 'agentauth-api');
    fieldsByMsg = new Map();
    allFields = new Set();
    for (const line of apiLines) {
      const msg = String(line.msg);
      const set = fieldsByMsg.get(msg) ?? new Set<string>();
      for (const key of Object.keys(line)) {
        set.add(key);
        allFields.add(key);
      }
      fieldsByMsg.set(msg, set);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  it('is the provisioned "AgentAuth Operations" dashboard with Loki and Prometheus panels', () => {
    expect(dashboard.title).toBe('AgentAuth Operations');
    expect(targets('loki').length).toBeGreaterThanOrEqual(15);
    expect(targets('prometheus').length).toBeGreaterThanOrEqual(8);
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const topic of [
      'request rate',
      '4xx',
      '5xx',
      'p95',
      'authentication failures',
      'rate-limit',
      'top agents',
      'per-endpoint',
    ]) {
      expect(titles).toContain(topic);
    }
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? [])
        expect(['loki', 'prometheus']).toContain(target.datasource.uid);
    }
  });

  it('the traffic produced real access lines with 200, 401 and 404', () => {
    const statuses = new Set(apiLines.filter((l) => l.msg === 'request completed').map((l) => l.status));
    expect([...statuses]).toEqual(expect.arrayContaining([200, 401, 404]));
  });

  it('documents LogQL examples in docs/deployment.md', () => {
    expect(lokiQueries.length - targets('loki').length).toBeGreaterThanOrEqual(8);
  });

  it.each(lokiQueries)('$where parses with the LogQL grammar', ({ expr }) => {
    const analysis = analyzeLogQL(interpolateGrafanaVariables(expr, variables));
    expect(analysis.errors).toEqual([]);
    expect(analysis.streamMatchers.length).toBeGreaterThan(0);
  });

  it('stream selectors use only labels the Promtail pipeline sets', () => {
    const { labels } = promtailLabels();
    const problems: string[] = [];
    for (const { where, expr } of lokiQueries) {
      for (const m of analyzeLogQL(interpolateGrafanaVariables(expr, variables)).streamMatchers) {
        if (!labels.has(m.label))
          problems.push(`${where}: stream label "${m.label}" is not set by deploy/promtail/promtail.yml`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every value a query compares a field with (each regex alternative on its own) is one the app logged', () => {
    const { labels: promtail } = promtailLabels();
    const problems: string[] = [];
    for (const { where, expr } of lokiQueries) {
      const a = analyzeLogQL(interpolateGrafanaVariables(expr, variables));
      const extracted = new Map(a.jsonFields.map((f) => [f.label, f.path]));
      const msgs = a.labelFilters.filter((f) => f.label === 'msg' && f.op === '=').map((f) => f.value);
      for (const m of valueMatchers(a)) {
        if (LOKI_BUILT_IN_LABELS.has(m.label)) continue;
        const field = m.inSelector
          ? promtail.get(m.label)
          : (extracted.get(m.label) ?? (promtail.has(m.label) ? promtail.get(m.label) : m.label));
        if (!field || OPEN_VALUED_FIELD.test(field)) continue; // static labels; ids (examples)
        // A filter after `| msg="..."` sees only those lines; a selector sees every line of every process.
        const observed = loggedValues(field, m.inSelector || field === 'msg' ? [] : msgs);
        for (const alternative of m.alternatives) {
          if (!matchesAny(alternative, m.regex, observed))
            problems.push(
              `${where}: ${m.label}${m.op}"${m.value}": "${alternative}" matches no logged ${field} ` +
                `(${[...new Set(observed)].join(', ')})`,
            );
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('each template variable lists a Promtail label, from a selector written as its definition', () => {
    const { labels } = promtailLabels();
    expect(labelValueVariables.length).toBeGreaterThan(0);
    for (const v of labelValueVariables) {
      expect(labels.has(v.label)).toBe(true);
      expect(v.definition).toBe(`label_values(${v.stream}, ${v.label})`);
      expect(variables[v.name]).toBeDefined();
    }
  });

  it('Promtail labels come from fields every API line has, and its drop rule keeps every API line', () => {
    const { labels, dropSelectors } = promtailLabels();
    for (const field of ['service_name', 'level']) expect([...labels.values()]).toContain(field);
    for (const [label, field] of labels) {
      if (!field) continue;
      const missing = apiLines.filter((l) => l[field] === undefined);
      expect({ label, missing: missing.length }).toEqual({ label, missing: 0 });
    }
    expect(dropSelectors.length).toBeGreaterThan(0);
    const rawApiLines = logCapture.raw.filter((l) => l.includes('"service_name":"agentauth-api"'));
    expect(rawApiLines.length).toBe(apiLines.length);
    for (const selector of dropSelectors) {
      const analysis = analyzeLogQL(selector);
      expect(analysis.errors).toEqual([]);
      for (const filter of analysis.lineFilters) {
        // A `!~` drop filter drops lines the regex does not match: it must match every API line.
        expect(filter.op).toBe('!~');
        const re = new RegExp(filter.value);
        expect(rawApiLines.filter((l) => !re.test(l))).toEqual([]);
        expect(re.test('{"level":"info","msg":"some other program"}')).toBe(false);
      }
    }
  });

  it("every field a query reads (json, label filters, unwrap, by) appears in the app's real log lines", () => {
    const streamLabels = new Set(promtailLabels().labels.keys());
    const problems: string[] = [];
    for (const { where, expr } of lokiQueries) {
      const a: LogQLAnalysis = analyzeLogQL(interpolateGrafanaVariables(expr, variables));
      const msgs = a.labelFilters.filter((f) => f.label === 'msg' && f.op === '=').map((f) => f.value);
      const context = msgs.length > 0 ? msgs : [undefined];
      const fieldLogged = (field: string) =>
        context.every((msg) => {
          if (msg === undefined) return allFields.has(field);
          if (msg === AUDIT_EVENT_MSG && !fieldsByMsg.has(msg) && auditPending()) {
            return FIELDS_FROM_AUDIT_EVENTS.includes(field) || allFields.has(field);
          }
          return fieldsByMsg.get(msg)?.has(field) ?? false;
        });
      for (const msg of msgs) {
        if (!fieldsByMsg.has(msg) && !(msg === AUDIT_EVENT_MSG && auditPending())) {
          problems.push(`${where}: msg="${msg}" is not a message the app logged`);
        }
      }
      for (const filter of a.lineFilters) {
        const pending = filter.value === AUDIT_EVENT_MSG && auditPending();
        if (filter.op === '|=' && !pending && !logCapture.raw.some((l) => l.includes(filter.value))) {
          problems.push(`${where}: line filter |= "${filter.value}" matches no line the app logged`);
        }
      }
      const extracted = new Set(a.jsonFields.map((f) => f.label));
      for (const { path: jsonPath } of a.jsonFields) {
        if (!fieldLogged(jsonPath)) problems.push(`${where}: | json reads "${jsonPath}", never logged`);
      }
      const known = (label: string) =>
        streamLabels.has(label) ||
        LOKI_BUILT_IN_LABELS.has(label) ||
        extracted.has(label) ||
        (a.bareJson && fieldLogged(label));
      for (const label of [...a.labelFilters.map((f) => f.label), ...a.unwrapFields, ...a.groupings]) {
        if (!known(label))
          problems.push(`${where}: "${label}" is neither a stream label nor an extracted field`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('FIELDS_FROM_AUDIT_EVENTS lists only fields the app does not log yet (remove entries once it does)', () => {
    const auditFields = fieldsByMsg.get(AUDIT_EVENT_MSG) ?? new Set<string>();
    expect(FIELDS_FROM_AUDIT_EVENTS.filter((f) => auditFields.has(f))).toEqual([]);
  });

  it('every Prometheus panel queries metrics and labels /metrics really exports', async () => {
    const res = await request(t.http)
      .get('/metrics')
      .set('Authorization', `Bearer ${metricsToken}`)
      .expect(200);
    const { types } = parsePrometheusText(res.text);
    const registry = t.app.get(Metrics).registry;
    const labelNamesOf = (metric: string): Set<string> => {
      const m = registry.getSingleMetric(metric) as { labelNames?: string[] } | undefined;
      return new Set([...(m?.labelNames ?? []), ...PROMETHEUS_TARGET_LABELS]);
    };
    const problems: string[] = [];
    for (const { where, expr } of targets('prometheus')) {
      const names = [...expr.matchAll(/\b((?:agentauth|process|nodejs)_[a-z0-9_]+|up)\b/g)].map((m) => m[1]);
      expect(names.length).toBeGreaterThan(0);
      const bases = names.map((name) => {
        if (name === 'up') return name;
        const base = name.replace(/_(bucket|sum|count)$/, '');
        if (types.has(name)) return name;
        if (base !== name && ['histogram', 'summary'].includes(types.get(base) ?? '')) return base;
        problems.push(`${where}: metric ${name} is not exported by /metrics`);
        return name;
      });
      const allowed = new Set(bases.flatMap((b) => [...labelNamesOf(b)]));
      const used = [
        ...[...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
          [...m[1].matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]),
        ),
        ...[...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
          m[1]
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      ];
      for (const label of used) {
        if (!allowed.has(label))
          problems.push(`${where}: label "${label}" is not a label of ${bases.join(', ')}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
