import type Redis from 'ioredis';
import { Clock, InvalidationBus } from '@agentauth/core';
import { createTestApp, type TestApp } from '../../support/app';
import { aFilesReader, aPolicy, filesReadReason as reasonOn, within } from '../../factories/policies';

/**
 * The decision cache after its invalidation subscriber lost its connection (docs/policies.md "Caching and
 * invalidation"). Drops a real Redis connection, so it does not run in the embedded mode (jest.config.js).
 */
describe('policy decision cache, subscriber reconnect', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    [a, b] = await Promise.all([createTestApp(), createTestApp()]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });
  afterEach(() => {
    jest.restoreAllMocks();
    a.app.get(Clock).reset();
    b.app.get(Clock).reset();
  });

  const setup = () => aFilesReader(a);

  it('re-verifies every cached set when the subscriber reconnects (messages sent meanwhile are lost)', async () => {
    const { root, worker } = await setup();
    expect(await reasonOn(b, root, worker)).toBe('scope_grant');
    jest.spyOn(a.app.get(InvalidationBus), 'publish').mockResolvedValue(false);
    await aPolicy(a, root, { subjects: [worker.id], actions: ['files:read'] });
    expect(await reasonOn(b, root, worker)).toBe('scope_grant');
    const bus: unknown = b.app.get(InvalidationBus);
    const subscriber = (bus as { subscriber: Redis }).subscriber;
    subscriber.disconnect(true); // drops the connection; ioredis reconnects
    const elapsed = await within(3000, async () => (await reasonOn(b, root, worker)) === 'explicit_deny');
    expect(elapsed).not.toBeNull();
  });
});
