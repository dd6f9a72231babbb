import { Test, type TestingModule } from '@nestjs/testing';
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
      await moduleRef.close();
      return undefined;
    } catch (error) {
      await closeAfterRefusedStart(moduleRef);
      return error;
    }
  };

  /**
   * Nest's `close()` first awaits the initialization — which failed — and rethrows, so none of the shutdown
   * hooks would run and the Redis clients and the pool the worker had already opened would keep jest alive.
   * After a refused start they are run here directly, in `close()`'s order.
   */
  const closeAfterRefusedStart = async (moduleRef: TestingModule): Promise<void> => {
    const hooks = moduleRef as unknown as {
      callDestroyHook(): Promise<void>;
      callBeforeShutdownHook(): Promise<void>;
      callShutdownHook(): Promise<void>;
    };
    await hooks.callDestroyHook();
    await hooks.callBeforeShutdownHook();
    await hooks.callShutdownHook();
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
