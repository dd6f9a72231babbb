import type { PinoLogger } from 'nestjs-pino';
import {
  Clock,
  type InvalidationBus,
  type InvalidationListener,
  ServiceUnavailableProblem,
} from '@agentauth/core';
import {
  POLICIES_CHANGED_CHANNEL,
  POLICY_CACHE_MAX_TREES,
  POLICY_CACHE_RECHECK_MS,
  POLICY_CACHE_RETRY_MS,
  PolicyDecisionService,
} from '@agentauth/policies';
import type { Policy } from '../../../libs/policies/src/policy.entity';
import type { PoliciesRepository } from '../../../libs/policies/src/policies.repository';
import { anAgent, A1, ROOT } from './policy-fixtures';

/** A stored deny of `files:read` for everyone in ROOT's tree. */
function storedDeny(id = '20000000-0000-4000-8000-000000000001'): Policy {
  return {
    id,
    rootAgentId: ROOT,
    ownerAgentId: ROOT,
    name: 'deny reads',
    description: null,
    effect: 'deny',
    subjects: ['*'],
    actions: ['files:read'],
    resources: ['*'],
    conditions: {},
    priority: 0,
    enabled: true,
    version: 1,
    createdAt: new Date(0),
    updatedAt: new Date(0),
  };
}

/** The tables as the service reads them, with switches for failures and a gate to hold a load. */
class FakeRepository {
  policies = new Map<string, Policy[]>();
  versions = new Map<string, number>();
  loads = 0;
  versionReads = 0;
  failLoads = false;
  failVersionReads = false;
  gate: Promise<void> | null = null;

  async loadTree(root: string): Promise<{ version: number; policies: Policy[] }> {
    this.loads++;
    const snapshot = {
      version: this.versions.get(root) ?? 0,
      policies: [...(this.policies.get(root) ?? [])],
    };
    if (this.gate) await this.gate;
    if (this.failLoads) throw new Error('connection refused');
    return snapshot;
  }

  async setVersion(root: string): Promise<number> {
    this.versionReads++;
    if (this.failVersionReads) throw new Error('connection refused');
    return this.versions.get(root) ?? 0;
  }

  change(root: string, policies: Policy[]): void {
    this.policies.set(root, policies);
    this.versions.set(root, (this.versions.get(root) ?? 0) + 1);
  }
}

class FakeBus {
  readonly listeners = new Map<string, InvalidationListener>();
  published: [string, string][] = [];
  subscribe(channel: string, listener: InvalidationListener): () => void {
    this.listeners.set(channel, listener);
    return () => this.listeners.delete(channel);
  }
  async publish(channel: string, payload: string): Promise<boolean> {
    this.published.push([channel, payload]);
    return true;
  }
}

const logger = { setContext: () => undefined, warn: jest.fn(), error: jest.fn() } as unknown as PinoLogger;

describe('PolicyDecisionService', () => {
  let repository: FakeRepository;
  let bus: FakeBus;
  let clock: Clock;
  let service: PolicyDecisionService;
  const read = { agent: anAgent(A1), action: 'files:read' };

  beforeEach(() => {
    repository = new FakeRepository();
    bus = new FakeBus();
    clock = new Clock();
    service = new PolicyDecisionService(
      repository as unknown as PoliciesRepository,
      bus as unknown as InvalidationBus,
      clock,
      logger,
    );
    service.onModuleInit();
  });

  // The issuance step with no stored policy is the evaluator's step 3 alone: what `allowed_scopes` cover is
  // issued, the rest is `default_deny` (this replaced the test of a dead copy of that step in libs/auth).
  it('at issuance without policies, allows exactly what allowed_scopes cover, the rest default_deny', async () => {
    const decision = await service.filterScopesForIssuance({
      agent: anAgent(A1, { allowed_scopes: ['files:*'] }),
      scopes: ['files:read', 'agents:read'],
    });
    expect(decision.allowed).toEqual(['files:read']);
    expect(decision.denied.map(({ scope, reason }) => ({ scope, reason }))).toEqual([
      { scope: 'agents:read', reason: 'default_deny' },
    ]);
  });

  it('loads a tree once for concurrent first decisions, then decides from memory', async () => {
    repository.change(ROOT, [storedDeny()]);
    const decisions = await Promise.all(Array.from({ length: 20 }, () => service.evaluate(read)));
    expect(decisions.every((d) => d.reason === 'explicit_deny')).toBe(true);
    for (let i = 0; i < 100; i++) await service.evaluate(read);
    expect(repository.loads).toBe(1);
    expect(repository.versionReads).toBe(0);
  });

  it('drops a tree on its invalidation message, and only that tree', async () => {
    repository.change(ROOT, [storedDeny()]);
    await service.evaluate(read);
    repository.change(ROOT, []);
    bus.listeners.get(POLICIES_CHANGED_CHANNEL)!.onMessage('00000000-0000-4000-8000-0000000000ff');
    expect((await service.evaluate(read)).reason).toBe('explicit_deny');
    bus.listeners.get(POLICIES_CHANGED_CHANNEL)!.onMessage(ROOT);
    expect((await service.evaluate(read)).reason).toBe('scope_grant');
    expect(repository.loads).toBe(2);
  });

  it('announceChange drops the local copy and publishes the tree id', async () => {
    repository.change(ROOT, [storedDeny()]);
    await service.evaluate(read);
    repository.change(ROOT, []);
    await service.announceChange(ROOT.toUpperCase());
    expect(bus.published).toEqual([[POLICIES_CHANGED_CHANNEL, ROOT]]);
    expect((await service.evaluate(read)).reason).toBe('scope_grant');
  });

  it('loads again when an invalidation arrives while a load is running', async () => {
    let release!: () => void;
    repository.gate = new Promise<void>((r) => (release = r));
    const pending = service.evaluate(read); // reads the empty snapshot, then waits
    await new Promise((r) => setImmediate(r));
    repository.change(ROOT, [storedDeny()]);
    service.invalidate(ROOT);
    repository.gate = null;
    release();
    expect((await pending).reason).toBe('explicit_deny');
    expect(repository.loads).toBe(2);
  });

  it('verifies a set older than the recheck interval before using it (a missed message)', async () => {
    await service.evaluate(read);
    repository.change(ROOT, [storedDeny()]); // nobody told this process
    clock.advance(POLICY_CACHE_RECHECK_MS - 100);
    expect((await service.evaluate(read)).reason).toBe('scope_grant');
    expect(repository.versionReads).toBe(0);
    clock.advance(100);
    expect((await service.evaluate(read)).reason).toBe('explicit_deny');
    expect(repository.versionReads).toBe(1);
    expect(repository.loads).toBe(2);
  });

  it('an unchanged version only renews the set (one read per interval)', async () => {
    await service.evaluate(read);
    clock.advance(POLICY_CACHE_RECHECK_MS);
    await Promise.all(Array.from({ length: 10 }, () => service.evaluate(read)));
    for (let i = 0; i < 10; i++) await service.evaluate(read);
    expect(repository.versionReads).toBe(1);
    expect(repository.loads).toBe(1);
  });

  it('after a subscriber resync, verifies every set before its next use', async () => {
    await service.evaluate(read);
    repository.change(ROOT, [storedDeny()]);
    bus.listeners.get(POLICIES_CHANGED_CHANNEL)!.onResync!();
    expect((await service.evaluate(read)).reason).toBe('explicit_deny');
    expect(repository.versionReads).toBe(1);
  });

  it('keeps deciding with its set when a verification fails, and retries shortly', async () => {
    repository.change(ROOT, [storedDeny()]);
    await service.evaluate(read);
    repository.failVersionReads = true;
    clock.advance(POLICY_CACHE_RECHECK_MS);
    expect((await service.evaluate(read)).reason).toBe('explicit_deny');
    expect(repository.versionReads).toBe(1);
    clock.advance(POLICY_CACHE_RETRY_MS / 2);
    await service.evaluate(read);
    expect(repository.versionReads).toBe(1);
    clock.advance(POLICY_CACHE_RETRY_MS / 2);
    repository.failVersionReads = false;
    await service.evaluate(read);
    expect(repository.versionReads).toBe(2);
  });

  it('answers 503 when a tree cannot be loaded, and when a stored policy cannot be compiled', async () => {
    repository.failLoads = true;
    await expect(service.evaluate(read)).rejects.toBeInstanceOf(ServiceUnavailableProblem);
    repository.failLoads = false;
    repository.change(ROOT, [{ ...storedDeny(), conditions: { ip_cidrs: ['not-a-cidr'] } }]);
    await expect(service.evaluate(read)).rejects.toBeInstanceOf(ServiceUnavailableProblem);
    expect(logger.error).toHaveBeenCalled();
    repository.change(ROOT, [storedDeny()]);
    expect((await service.evaluate(read)).reason).toBe('explicit_deny');
  });

  it(`keeps at most ${POLICY_CACHE_MAX_TREES} trees, dropping the least recently used`, async () => {
    const tree = (n: number) => `30000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    const decide = (n: number) =>
      service.evaluate({ agent: { ...anAgent(tree(n)), ancestor_ids: [tree(n)] }, action: 'files:read' });
    for (let n = 0; n < POLICY_CACHE_MAX_TREES; n++) await decide(n);
    await decide(0); // now the most recently used
    await decide(POLICY_CACHE_MAX_TREES); // evicts tree 1
    expect(service.cachedTrees).toBe(POLICY_CACHE_MAX_TREES);
    const loads = repository.loads;
    await decide(0);
    expect(repository.loads).toBe(loads);
    await decide(1);
    expect(repository.loads).toBe(loads + 1);
  });
});
