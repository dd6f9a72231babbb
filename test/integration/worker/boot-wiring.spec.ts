import { Test } from '@nestjs/testing';
import { APP_CONFIG, loadConfig, readEnvironment } from '@agentauth/core';
import { DelegationsService } from '@agentauth/delegations';
import { MaintenanceTasksRegistration, WebhooksProcessor } from '@agentauth/job-processors';
import { WorkerModule } from '../../../apps/worker/src/worker.module';

/**
 * The worker refuses to start when a cascade hook or a job processor is not registered, and says which.
 * (That the real worker boots is what every test of this folder that spawns it shows.) A provider replaced
 * by an empty object never runs its `onModuleInit`, i.e. never registers: the same as a module left out.
 */
describe('worker boot-time wiring check', () => {
  const bootWorkerWithout = async (provide: unknown): Promise<unknown> => {
    const moduleRef = await Test.createTestingModule({ imports: [WorkerModule] })
      .overrideProvider(APP_CONFIG)
      .useValue(loadConfig(readEnvironment()))
      .overrideProvider(provide)
      .useValue({})
      .compile();
    try {
      await moduleRef.init();
      return undefined;
    } catch (error) {
      return error;
    } finally {
      await moduleRef.close().catch(() => undefined);
    }
  };

  it('a missing job processor: refuses to start, naming its jobs', async () => {
    const error = await bootWorkerWithout(WebhooksProcessor);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^agentauth-worker refuses to start: not registered: /);
    expect((error as Error).message).toContain('JobHandlers webhooks "event"');
    expect((error as Error).message).toContain('JobHandlers webhooks "deliver"');
  });

  it('a missing cascade hook: refuses to start, naming it', async () => {
    const error = await bootWorkerWithout(DelegationsService);
    expect((error as Error).message).toMatch(
      /agentauth-worker refuses to start: not registered: AgentCascadeRegistry "delegations"/,
    );
  });

  it('missing maintenance tasks: refuses to start, naming each', async () => {
    const error = await bootWorkerWithout(MaintenanceTasksRegistration);
    expect((error as Error).message).toContain('MaintenanceTasks "agents.expire-due"');
    expect((error as Error).message).toContain('MaintenanceTasks "revocation.purge-expired"');
  });
});
