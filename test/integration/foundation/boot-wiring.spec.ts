import { DelegationsService } from '@agentauth/delegations';
import { WebhooksProcessor } from '@agentauth/job-processors';
import { createTestApp } from '../../support/app';

/**
 * The API refuses to start when a cascade hook or a job processor is not registered, and says which (the
 * real API boots in every other integration test, and in the first test here). A provider replaced by an
 * empty object never runs its `onModuleInit`, i.e. never registers: the same as a module left out.
 */
describe('API boot-time wiring check', () => {
  it('the real API starts (everything registered)', async () => {
    const t = await createTestApp();
    await t.close();
  });

  it('a missing cascade hook: refuses to start, naming it', async () => {
    await expect(
      createTestApp({}, { overrideProviders: [{ provide: DelegationsService, useValue: {} }] }),
    ).rejects.toThrow(/agentauth-api refuses to start: not registered: AgentCascadeRegistry "delegations"/);
  });

  it('a missing job processor: refuses to start, naming its jobs', async () => {
    await expect(
      createTestApp({}, { overrideProviders: [{ provide: WebhooksProcessor, useValue: {} }] }),
    ).rejects.toThrow(/JobHandlers webhooks "event", JobHandlers webhooks "deliver"/);
  });
});
