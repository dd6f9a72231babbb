import { assertRegistrations, MissingRegistrationsError, missingRegistrations } from '@agentauth/core';
import {
  cascadeChecks,
  jobWiringChecks,
  REQUIRED_JOB_HANDLERS,
  REQUIRED_MAINTENANCE_TASKS,
} from '@agentauth/job-processors';
import { JobHandlers, MaintenanceTasks, QUEUES, type QueueName } from '@agentauth/jobs';

const allHandlers = (): JobHandlers => {
  const handlers = new JobHandlers();
  for (const [queue, jobs] of Object.entries(REQUIRED_JOB_HANDLERS)) {
    for (const job of jobs) handlers.register(queue as QueueName, job, async () => null);
  }
  return handlers;
};
const allTasks = (except?: string): MaintenanceTasks => {
  const tasks = new MaintenanceTasks();
  for (const name of REQUIRED_MAINTENANCE_TASKS) {
    if (name !== except) tasks.register({ name, run: async () => ({}) });
  }
  return tasks;
};
const allHooks = {
  AgentCascadeRegistry: ['credentials', 'delegations', 'tokens'],
  DelegationRevocationRegistry: ['tokens'],
  CredentialLifecycleRegistry: ['tokens'],
};

describe('boot-time wiring check (libs/core/src/lifecycle/required-registrations.ts)', () => {
  it('passes when everything required is registered (extra registrations are fine)', () => {
    expect(() =>
      assertRegistrations('agentauth-worker', [
        ...cascadeChecks({ ...allHooks, AgentCascadeRegistry: [...allHooks.AgentCascadeRegistry, 'extra'] }),
        ...jobWiringChecks(allHandlers(), allTasks()),
      ]),
    ).not.toThrow();
  });

  it('names a missing cascade hook', () => {
    const checks = cascadeChecks({ ...allHooks, AgentCascadeRegistry: ['credentials', 'tokens'] });
    expect(missingRegistrations(checks)).toEqual(['AgentCascadeRegistry "delegations"']);
    expect(() => assertRegistrations('agentauth-api', checks)).toThrow(
      /agentauth-api refuses to start: not registered: AgentCascadeRegistry "delegations"/,
    );
  });

  it('names a registry that is not provided at all, once per required name', () => {
    const checks = cascadeChecks({ ...allHooks, DelegationRevocationRegistry: undefined });
    const error = (() => {
      try {
        assertRegistrations('agentauth-worker', checks);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MissingRegistrationsError);
    expect((error as MissingRegistrationsError).missing).toEqual([
      'DelegationRevocationRegistry "tokens" (the registry itself is not provided)',
    ]);
  });

  it('names a missing job processor and a missing maintenance task', () => {
    const handlers = new JobHandlers();
    handlers.register(QUEUES.keyRotation, 'rotate', async () => null);
    handlers.register(QUEUES.keyRotation, 'advance', async () => null);
    handlers.register(QUEUES.maintenance, 'run', async () => null);
    const missing = missingRegistrations(jobWiringChecks(handlers, allTasks('credentials.mark-expired')));
    expect(missing).toEqual([
      'JobHandlers webhooks "event"',
      'JobHandlers webhooks "deliver"',
      'MaintenanceTasks "credentials.mark-expired"',
    ]);
  });

  it('requires every job of every queue and every maintenance task the processors register', () => {
    expect(REQUIRED_JOB_HANDLERS).toEqual({
      'key-rotation': ['rotate', 'advance'],
      maintenance: ['run'],
      webhooks: ['event', 'deliver'],
    });
    expect(REQUIRED_MAINTENANCE_TASKS).toEqual([
      'agents.expire-due',
      'credentials.mark-expired',
      'refresh-tokens.purge-expired',
      'revocation.purge-expired',
      'webhooks.purge-deliveries',
    ]);
  });
});
