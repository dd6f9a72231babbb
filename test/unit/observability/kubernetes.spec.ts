import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

/**
 * deploy/kubernetes/base, validated against the Kubernetes OpenAPI schemas (the `kubernetes-models`
 * package: one generated JSON-schema validator per kind and API version), rendered with `kubectl kustomize`
 * where kubectl is installed, and checked for what the platform team relies on: probes, autoscaling,
 * disruption budget, scrape annotations, secrets by reference only, network policy coverage.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const BASE = 'deploy/kubernetes/base';
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');

jest.setTimeout(60_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are free-form YAML
type Manifest = Record<string, any>;

/** The kubernetes-models class of a manifest's apiVersion and kind (undefined for an unknown kind). */
function modelOf(manifest: Manifest): (new (data: Manifest) => { validate(): void }) | undefined {
  const [group, version] = String(manifest.apiVersion).includes('/')
    ? String(manifest.apiVersion).split('/')
    : ['', String(manifest.apiVersion)];
  const modulePath = `kubernetes-models/${group ? `${group}/` : ''}${version}/${manifest.kind}`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(modulePath) as Record<string, new (data: Manifest) => { validate(): void }>;
    return exported[manifest.kind as string];
  } catch {
    return undefined;
  }
}

/** Schema problems of one manifest ([] when it validates). */
function schemaProblems(manifest: Manifest): string[] {
  const Model = modelOf(manifest);
  const name = `${manifest.kind}/${manifest.metadata?.name}`;
  if (!Model) return [`${name}: no schema for ${manifest.apiVersion} ${manifest.kind}`];
  try {
    new Model(manifest).validate();
    return [];
  } catch (error) {
    return [`${name}: ${(error as Error).message}`];
  }
}

function loadBase(): Manifest[] {
  const kustomization = parseYaml(read(`${BASE}/kustomization.yaml`)) as { resources: string[] };
  return kustomization.resources.flatMap((file) =>
    parseAllDocuments(read(`${BASE}/${file}`)).map((doc) => doc.toJSON() as Manifest),
  );
}

const kubectl = (() => {
  const which = spawnSync('which', ['kubectl'], { encoding: 'utf8' });
  return which.status === 0 ? which.stdout.trim() : undefined;
})();

afterAll(() => {
  console.info(
    `kubernetes validators — kubernetes-models schemas; kubectl: ${kubectl ?? 'not installed (skipped)'}`,
  );
});

describe('deploy/kubernetes/base', () => {
  const manifests = loadBase();
  const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
  const named = (kind: string, name: string) => {
    const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
    if (!found) throw new Error(`${kind}/${name} missing`);
    return found;
  };
  const api = named('Deployment', 'agentauth-api');
  const worker = named('Deployment', 'agentauth-worker');
  const job = named('Job', 'agentauth-migrate');
  const podSpecs = [api, worker, job].map((w) => w.spec.template.spec as Manifest);
  const containers = podSpecs.flatMap((spec) => spec.containers as Manifest[]);

  it('has the whole base: API Deployment, Service, HPA, PDB, worker, migration Job, NetworkPolicy', () => {
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(
      [
        'ConfigMap/agentauth-config',
        'Deployment/agentauth-api',
        'Deployment/agentauth-worker',
        'HorizontalPodAutoscaler/agentauth-api',
        'Job/agentauth-migrate',
        'NetworkPolicy/agentauth-api',
        'NetworkPolicy/agentauth-default-deny',
        'NetworkPolicy/agentauth-worker',
        'PodDisruptionBudget/agentauth-api',
        'Service/agentauth-api',
        'ServiceAccount/agentauth',
      ].sort(),
    );
  });

  it('validates every manifest against the Kubernetes OpenAPI schemas', () => {
    expect(manifests.flatMap(schemaProblems)).toEqual([]);
    // The validator is real: a wrong type, a missing required field and an unknown kind are refused.
    const broken = structuredClone(api);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'eight thousand';
    expect(schemaProblems(broken).join()).toMatch(/containerPort/);
    const noSelector = structuredClone(api);
    delete noSelector.spec.selector;
    expect(schemaProblems(noSelector).join()).toMatch(/selector/);
    expect(schemaProblems({ apiVersion: 'v1', kind: 'Nonsense', metadata: { name: 'x' } })).not.toEqual([]);
  });

  it('renders with `kubectl kustomize` (where kubectl exists) to the same objects, each schema-valid', () => {
    if (!kubectl) return;
    const result = spawnSync(kubectl, ['kustomize', BASE], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const rendered = parseAllDocuments(result.stdout).map((d) => d.toJSON() as Manifest);
    expect(rendered.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(
      manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort(),
    );
    expect(rendered.flatMap(schemaProblems)).toEqual([]);
    for (const m of rendered) expect(m.metadata.labels?.['app.kubernetes.io/part-of']).toBe('agentauth');
    const renderedImages = rendered
      .filter((m) => m.spec?.template?.spec?.containers)
      .flatMap((m) => (m.spec.template.spec.containers as Manifest[]).map((c) => c.image as string));
    expect(new Set(renderedImages)).toEqual(new Set(['agentauth:0.1.0']));
  });

  it('probes the API: readiness on /ready, liveness and start-up on /health, on the container port', () => {
    const container = api.spec.template.spec.containers[0];
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8000, protocol: 'TCP' }]);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(container.startupProbe.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(worker.spec.template.spec.containers[0].livenessProbe.exec.command).toEqual([
      'node',
      'dist/scripts/worker-healthcheck.js',
    ]);
  });

  it('runs the same image and commands as docker-compose.prod.yml', () => {
    const compose = parseYaml(read('docker-compose.prod.yml'), { merge: true }) as {
      services: Record<string, { command: string[] }>;
    };
    expect(api.spec.template.spec.containers[0].command).toEqual(compose.services.api.command);
    expect(worker.spec.template.spec.containers[0].command).toEqual(compose.services.worker.command);
    expect(job.spec.template.spec.containers[0].command).toEqual(compose.services.migrate.command);
    expect(new Set(containers.map((c) => c.image))).toEqual(new Set(['agentauth']));
    const kustomization = parseYaml(read(`${BASE}/kustomization.yaml`)) as {
      images: { name: string; newTag: string }[];
    };
    const tag = kustomization.images.find((i) => i.name === 'agentauth')?.newTag;
    expect(tag).toMatch(/^\d+\.\d+\.\d+$/);
    expect(read('package.json')).toContain(`"version": "${tag}"`);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
  });

  it('autoscales the API (HPA) and keeps one replica through voluntary disruptions (PDB)', () => {
    const hpa = named('HorizontalPodAutoscaler', 'agentauth-api');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'agentauth-api',
    });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(api.spec.replicas).toBeUndefined(); // the HPA owns the count
    expect(api.spec.template.spec.containers[0].resources.requests.cpu).toBeDefined(); // CPU utilization needs it
    const pdb = named('PodDisruptionBudget', 'agentauth-api');
    expect(pdb.spec.selector.matchLabels).toEqual(api.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
  });

  it('selects the API pods from the Service, the PDB and the NetworkPolicy by the pod template labels', () => {
    const podLabels = api.spec.template.metadata.labels as Record<string, string>;
    const matches = (selector: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => podLabels[k] === v);
    expect(matches(api.spec.selector.matchLabels)).toBe(true);
    const service = named('Service', 'agentauth-api');
    expect(matches(service.spec.selector)).toBe(true);
    expect(service.spec.ports[0].targetPort).toBe('http');
    expect(matches(named('NetworkPolicy', 'agentauth-api').spec.podSelector.matchLabels)).toBe(true);
    // The worker and the job are not API pods: the Service never routes to them.
    for (const other of [worker, job]) {
      const labels = other.spec.template.metadata.labels as Record<string, string>;
      const routed = Object.entries(service.spec.selector as Record<string, string>).every(
        ([k, v]) => labels[k] === v,
      );
      expect({ name: other.metadata.name, routed }).toEqual({ name: other.metadata.name, routed: false });
    }
  });

  it('puts every pod under a default-deny NetworkPolicy; only the API accepts traffic, on its port', () => {
    const deny = named('NetworkPolicy', 'agentauth-default-deny');
    expect(deny.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(deny.spec.ingress).toBeUndefined();
    expect(deny.spec.egress).toBeUndefined();
    for (const spec of [api, worker, job]) {
      const labels = spec.spec.template.metadata.labels as Record<string, string>;
      const selected = Object.entries(deny.spec.podSelector.matchLabels as Record<string, string>).every(
        ([k, v]) => labels[k] === v,
      );
      expect({ name: spec.metadata.name, selected }).toEqual({ name: spec.metadata.name, selected: true });
    }
    const apiPolicy = named('NetworkPolicy', 'agentauth-api');
    expect(apiPolicy.spec.ingress).toEqual([{ ports: [{ port: 8000, protocol: 'TCP' }] }]);
    const workerPolicy = named('NetworkPolicy', 'agentauth-worker');
    expect(workerPolicy.spec.ingress).toBeUndefined();
    expect(workerPolicy.spec.podSelector.matchExpressions).toContainEqual({
      key: 'app.kubernetes.io/component',
      operator: 'In',
      values: ['worker', 'migrate'],
    });
  });

  it('has Prometheus scrape annotations on the API pods pointing at /metrics on the container port', () => {
    const annotations = api.spec.template.metadata.annotations as Record<string, string>;
    expect(annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8000',
      'prometheus.io/path': '/metrics',
    });
  });

  it('takes secrets only by reference: no Secret object, no literal secret value anywhere', () => {
    expect(byKind('Secret')).toEqual([]);
    const SECRET_NAME = /(PASSWORD|SECRET|SECRET_KEY|API_KEY|_TOKEN|DATABASE_URL|REDIS_URL)$/;
    const problems: string[] = [];
    for (const container of containers) {
      for (const env of (container.env ?? []) as Manifest[]) {
        if (!SECRET_NAME.test(env.name)) continue;
        if (env.value !== undefined || !env.valueFrom?.secretKeyRef)
          problems.push(`${container.name}: ${env.name} is not a secretKeyRef`);
        else if (env.valueFrom.secretKeyRef.name !== 'agentauth-secrets')
          problems.push(`${container.name}: ${env.name} refers to ${env.valueFrom.secretKeyRef.name}`);
      }
    }
    const config = named('ConfigMap', 'agentauth-config');
    for (const key of Object.keys(config.data as object))
      if (SECRET_NAME.test(key)) problems.push(`ConfigMap holds ${key}`);
    expect(problems).toEqual([]);
    // Every required secret reaches the processes that need it.
    const envNames = (w: Manifest) =>
      (w.spec.template.spec.containers[0].env as Manifest[]).map((e) => e.name);
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'SECRET_KEY', 'ADMIN_API_KEY', 'METRICS_TOKEN'])
      expect(envNames(api)).toContain(name);
    expect(envNames(job)).toContain('MIGRATIONS_DATABASE_URL');
    expect(envNames(api)).not.toContain('MIGRATIONS_DATABASE_URL'); // the owner URL only reaches the job
    expect(envNames(worker)).not.toContain('MIGRATIONS_DATABASE_URL');
  });

  it('uses only configuration variables the app documents (or the standard OTEL_* ones)', () => {
    const documented = read('docs/configuration.md');
    const names = new Set<string>([
      ...Object.keys(named('ConfigMap', 'agentauth-config').data as object),
      ...containers.flatMap((c) => ((c.env ?? []) as Manifest[]).map((e) => e.name as string)),
    ]);
    const unknown = [...names].filter((n) => !n.startsWith('OTEL_') && !documented.includes(`\`${n}\``));
    expect(unknown).toEqual([]);
    expect(named('ConfigMap', 'agentauth-config').data.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(''); // tracing off
  });

  it('runs every pod unprivileged with a read-only root file system and no service account token', () => {
    for (const spec of podSpecs) {
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      expect(spec.serviceAccountName).toBe('agentauth');
    }
    for (const container of containers) {
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(container.resources.limits.memory).toBeDefined();
    }
    expect(named('ServiceAccount', 'agentauth').automountServiceAccountToken).toBe(false);
  });
});
