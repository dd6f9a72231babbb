import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  type AlloyBlock,
  AlloyReference,
  type AlloyValue,
  parseAlloy,
  referencesIn,
} from '../../support/alloy-config';
import { analyzeLogQL } from '../../support/logql';

/**
 * deploy/alloy/config.alloy, checked without the `alloy` binary (not on npm or Debian): parsed with the
 * Alloy syntax, every component and argument checked against the reference of the components it uses, every
 * reference resolved, and the log pipeline compared stage by stage with deploy/promtail/promtail.yml (the
 * profile kept for sites pinned to Promtail): the same files, labels, JSON fields, filter and Loki target.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/**
 * The arguments and blocks of the components the config uses (Alloy reference: components/local.file_match,
 * loki.source.file, loki.process, loki.write, config-blocks/logging), and what each exports.
 */
interface ComponentSpec {
  labelled: boolean;
  required: string[];
  optional: string[];
  blocks: Record<string, { required: string[]; optional: string[] }>;
  exports: string[];
}
const COMPONENTS: Record<string, ComponentSpec> = {
  logging: {
    labelled: false,
    required: [],
    optional: ['level', 'format', 'write_to'],
    blocks: {},
    exports: [],
  },
  'local.file_match': {
    labelled: true,
    required: ['path_targets'],
    optional: ['sync_period', 'ignore_older_than'],
    blocks: {},
    exports: ['targets'],
  },
  'loki.source.file': {
    labelled: true,
    required: ['targets', 'forward_to'],
    optional: ['encoding', 'tail_from_end', 'legacy_positions_file'],
    blocks: { decompression: { required: ['enabled'], optional: ['initial_delay', 'format'] } },
    exports: [],
  },
  'loki.process': {
    labelled: true,
    required: ['forward_to'],
    optional: [],
    blocks: {
      'stage.docker': { required: [], optional: [] },
      'stage.match': { required: ['selector'], optional: ['action', 'drop_counter_reason', 'pipeline_name'] },
      'stage.json': { required: ['expressions'], optional: ['source', 'drop_malformed'] },
      'stage.labels': { required: ['values'], optional: [] },
      'stage.timestamp': {
        required: ['source', 'format'],
        optional: ['fallback_formats', 'location', 'action_on_failure'],
      },
      'stage.label_drop': { required: ['values'], optional: [] },
    },
    exports: ['receiver'],
  },
  'loki.write': {
    labelled: true,
    required: [],
    optional: ['external_labels', 'max_streams'],
    blocks: {
      endpoint: {
        required: ['url'],
        optional: [
          'name',
          'headers',
          'batch_wait',
          'batch_size',
          'remote_timeout',
          'tenant_id',
          'min_backoff_period',
          'max_backoff_period',
          'max_backoff_retries',
          'retry_on_http_429',
        ],
      },
    },
    exports: ['receiver'],
  },
};

/** Problems of a parsed config against COMPONENTS (unknown components/arguments, missing ones, references). */
function componentProblems(blocks: AlloyBlock[]): string[] {
  const problems: string[] = [];
  const ids = new Map<string, ComponentSpec>();
  for (const block of blocks) {
    const spec = COMPONENTS[block.name];
    const where = `${block.name}${block.label ? ` "${block.label}"` : ''} (line ${block.line})`;
    if (!spec) {
      problems.push(`${where}: unknown component`);
      continue;
    }
    if (spec.labelled !== (block.label !== undefined))
      problems.push(`${where}: ${spec.labelled ? 'needs' : 'takes no'} label`);
    const id = `${block.name}.${block.label}`;
    if (ids.has(id)) problems.push(`${where}: defined twice`);
    ids.set(id, spec);
    const check = (what: string, attrs: Record<string, unknown>, required: string[], optional: string[]) => {
      for (const name of required) if (!(name in attrs)) problems.push(`${what}: missing ${name}`);
      for (const name of Object.keys(attrs))
        if (!required.includes(name) && !optional.includes(name))
          problems.push(`${what}: unknown argument ${name}`);
    };
    check(where, block.attributes, spec.required, spec.optional);
    for (const inner of block.blocks) {
      const innerSpec = spec.blocks[inner.name];
      if (!innerSpec) problems.push(`${where}: unknown block ${inner.name}`);
      else check(`${where} ${inner.name}`, inner.attributes, innerSpec.required, innerSpec.optional);
      if (inner.blocks.length) problems.push(`${where} ${inner.name}: unexpected nested block`);
    }
  }
  // Every reference names an export of a component defined in this file.
  const walk = (block: AlloyBlock): string[] => [
    ...Object.values(block.attributes).flatMap(referencesIn),
    ...block.blocks.flatMap(walk),
  ];
  for (const ref of blocks.flatMap(walk)) {
    const parts = ref.split('.');
    const exported = parts.pop()!;
    const spec = ids.get(parts.join('.'));
    if (!spec) problems.push(`reference ${ref}: no component ${parts.join('.')}`);
    else if (!spec.exports.includes(exported))
      problems.push(`reference ${ref}: ${parts.join('.')} exports no ${exported}`);
  }
  return problems;
}

interface PromtailConfig {
  clients: { url: string; backoff_config: { min_period: string; max_period: string; max_retries: number } }[];
  scrape_configs: {
    job_name: string;
    static_configs: { targets: string[]; labels: Record<string, string> }[];
    pipeline_stages: Record<string, unknown>[];
  }[];
}

/** A Promtail pipeline stage rewritten as the Alloy `stage.*` block it corresponds to. */
function promtailStageAsAlloy(stage: Record<string, unknown>): {
  name: string;
  attributes: Record<string, unknown>;
} {
  const [[kind, body]] = Object.entries(stage);
  const args = (body ?? {}) as Record<string, unknown>;
  switch (kind) {
    case 'docker':
      return { name: 'stage.docker', attributes: {} };
    case 'match':
    case 'timestamp':
      return { name: `stage.${kind}`, attributes: args };
    case 'json':
      return { name: 'stage.json', attributes: args };
    case 'labels':
      // Promtail's `name:` (null) means "from the extracted field of the same name": Alloy writes "".
      return {
        name: 'stage.labels',
        attributes: {
          values: Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v === null ? '' : v])),
        },
      };
    case 'labeldrop':
      return { name: 'stage.label_drop', attributes: { values: body } };
    default:
      throw new Error(`Promtail stage ${kind} has no mapping in this test`);
  }
}

/** Plain JSON of an Alloy value (references become `ref:<path>`). */
function plain(value: AlloyValue): unknown {
  if (value instanceof AlloyReference) return `ref:${value.path}`;
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

describe('Alloy syntax parser (test/support/alloy-config.ts)', () => {
  it('reads blocks, labels, attributes, objects, arrays and references', () => {
    const blocks = parseAlloy(
      '// c\nloki.write "x" {\n  endpoint {\n    url = "http://a/\\"q\\""\n    n = 20\n  }\n  m = {a = 1, "b" = [true, null, `r\\aw`],}\n}\n' +
        'logging { level = "warn" }\n/* block\ncomment */ a.b "y" { f = [a.b.c.receiver, d.e[0]] }\n',
    );
    expect(blocks.map((b) => [b.name, b.label])).toEqual([
      ['loki.write', 'x'],
      ['logging', undefined],
      ['a.b', 'y'],
    ]);
    expect(blocks[0].blocks[0].attributes).toEqual({ url: 'http://a/"q"', n: 20 });
    expect(plain(blocks[0].attributes.m)).toEqual({ a: 1, b: [true, null, 'r\\aw'] });
    expect(plain(blocks[2].attributes.f)).toEqual(['ref:a.b.c.receiver', 'ref:d.e.[0]']);
    expect(blocks[2].line).toBe(11);
  });

  it.each([
    ['an unclosed block', 'a "x" {\n  b = 1\n'],
    ['a missing comma', 'a "x" {\n  b = [1 2]\n}\n'],
    ['a newline before a closing brace without a trailing comma', 'a "x" {\n  b = {\n    c = 1\n  }\n}\n'],
    ['two statements on one line', 'a "x" { b = 1 c = 2 }\n'],
    ['an attribute set twice', 'a "x" {\n  b = 1\n  b = 2\n}\n'],
    ['a YAML-style colon', 'a "x" {\n  b: 1\n}\n'],
    ['an unterminated string', 'a "x {\n}\n'],
    ['a top-level attribute', 'b = 1\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parseAlloy(text)).toThrow();
  });
});

describe('deploy/alloy/config.alloy', () => {
  const blocks = parseAlloy(read('deploy/alloy/config.alloy'));
  const component = (name: string) => {
    const found = blocks.filter((b) => b.name === name);
    expect(found).toHaveLength(1);
    return found[0];
  };
  const promtail = parseYaml(read('deploy/promtail/promtail.yml')) as PromtailConfig;
  const scrape = promtail.scrape_configs[0];

  it('uses only known components and arguments, and every reference resolves', () => {
    expect(componentProblems(blocks)).toEqual([]);
    // The checker itself catches mistakes.
    const broken = parseAlloy(
      'loki.process "p" {\n  stage.jsn {}\n  forward_to = [loki.write.nope.receiver]\n}\n' +
        'loki.write "w" {\n  endpoint {\n    uri = "x"\n  }\n}\nlocal.file_match "f" {\n  path_targets = []\n  x = local.file_match.f.receiver\n}\n',
    );
    expect(componentProblems(broken)).toEqual([
      'loki.process "p" (line 1): unknown block stage.jsn',
      'loki.write "w" (line 5) endpoint: missing url',
      'loki.write "w" (line 5) endpoint: unknown argument uri',
      'local.file_match "f" (line 10): unknown argument x',
      'reference loki.write.nope.receiver: no component loki.write.nope',
      'reference local.file_match.f.receiver: local.file_match.f exports no receiver',
    ]);
  });

  it('tails the same files with the same static labels as Promtail', () => {
    const match = component('local.file_match');
    const { __path__, ...labels } = scrape.static_configs[0].labels;
    expect(plain(match.attributes.path_targets)).toEqual([{ __path__, ...labels }]);
    const source = component('loki.source.file');
    expect(plain(source.attributes.targets)).toBe(`ref:local.file_match.${match.label}.targets`);
  });

  it('runs file source → process → write, as Promtail does', () => {
    const source = component('loki.source.file');
    const processor = component('loki.process');
    const writer = component('loki.write');
    expect(plain(source.attributes.forward_to)).toEqual([`ref:loki.process.${processor.label}.receiver`]);
    expect(plain(processor.attributes.forward_to)).toEqual([`ref:loki.write.${writer.label}.receiver`]);
  });

  it('has the same pipeline stages, in the same order and with the same arguments, as promtail.yml', () => {
    const stages = component('loki.process').blocks.map((b) => ({
      name: b.name,
      attributes: plain(b.attributes),
    }));
    expect(stages).toEqual(scrape.pipeline_stages.map(promtailStageAsAlloy));
    // The labels are exactly the base fields the app logs, and ids never become labels.
    const labels = stages.find((s) => s.name === 'stage.labels')!.attributes as { values: object };
    expect(Object.keys(labels.values).sort()).toEqual(['environment', 'hostname', 'level', 'service_name']);
  });

  it("drops other containers' lines with a selector Grafana's LogQL grammar accepts", () => {
    const match = component('loki.process').blocks.find((b) => b.name === 'stage.match')!;
    const analysis = analyzeLogQL(match.attributes.selector as string);
    expect(analysis.errors).toEqual([]);
    expect(analysis.streamMatchers).toEqual([{ label: 'job', op: '=', value: 'agentauth' }]);
    expect(analysis.lineFilters).toEqual([{ op: '!~', value: '"service_name":"agentauth-' }]);
    expect(
      new RegExp(analysis.lineFilters[0].value).test('{"service_name":"agentauth-api","level":"info"}'),
    ).toBe(true);
  });

  it('pushes to the same Loki with the same retry policy', () => {
    const endpoint = component('loki.write').blocks.find((b) => b.name === 'endpoint')!;
    const client = promtail.clients[0];
    expect(endpoint.attributes).toEqual({
      url: client.url,
      min_backoff_period: client.backoff_config.min_period,
      max_backoff_period: client.backoff_config.max_period,
      max_backoff_retries: client.backoff_config.max_retries,
    });
  });

  it('is the file the alloy service runs, with a volume for its read positions', () => {
    const compose = parseYaml(read('docker-compose.prod.yml'), { merge: true }) as {
      services: Record<string, { command: string[]; volumes: string[]; profiles?: string[] }>;
      volumes: Record<string, unknown>;
    };
    const alloy = compose.services.alloy;
    expect(alloy.profiles).toBeUndefined(); // the default collector
    expect(compose.services.promtail.profiles).toEqual(['promtail']);
    const mount = alloy.volumes.find((v) => v.startsWith('./deploy/alloy/config.alloy:'))!;
    expect(alloy.command.at(-1)).toBe(mount.split(':')[1]);
    expect(alloy.command[0]).toBe('run');
    expect(alloy.volumes).toContain('/var/lib/docker/containers:/var/lib/docker/containers:ro');
    const storage = alloy.command.find((a) => a.startsWith('--storage.path='))!.split('=')[1];
    const storageVolume = alloy.volumes.find((v) => v.endsWith(`:${storage}`))!.split(':')[0];
    expect(compose.volumes).toHaveProperty(storageVolume);
  });
});
