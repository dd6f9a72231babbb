import type Redis from 'ioredis';
import { InvalidationBus } from '@agentauth/core';
import { twoTestApps } from '../../support/app';
import { aFilesReader, aPolicy, filesReadReason as reasonOn, within } from '../../factories/policies';

/**
 * The decision cache after its invalidation subscriber lost its connection (docs/policies.md "Caching and
 * invalidation"). Drops a real Redis connection, so it does not run in the embedded mode (jest.config.js).
 */
describe('policy decision cache, subscriber reconnect', () => {
  const apps = twoTestApps();

  const setup = () => aFilesReader(apps.a);

  it('re-verifies every cached set when the subscriber reconnects (messages sent meanwhile are lost)', async () => {
    const { root, worker } = await setup();
    expect(await reasonOn(apps.b, root, worker)).toBe('scope_grant');
    jest.spyOn(apps.a.app.get(InvalidationBus), 'publish').mockResolvedValue(false);
    await aPolicy(apps.a, root, { subjects: [worker.id], actions: ['files:read'] });
    expect(await reasonOn(apps.b, root, worker)).toBe('scope_grant');
    const bus: unknown = apps.b.app.get(InvalidationBus);
    const subscriber = (bus as { subscriber: Redis }).subscriber;
    subscriber.disconnect(true); // drops the connection; ioredis reconnects
    const elapsed = await within(
      3000,
      async () => (await reasonOn(apps.b, root, worker)) === 'explicit_deny',
    );
    expect(elapsed).not.toBeNull();
  });
});
