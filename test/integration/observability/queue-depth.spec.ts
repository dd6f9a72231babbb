import { JobsProducer, MAINTENANCE_JOBS, QUEUE_NAMES, QUEUES } from '@agentauth/jobs';
import { METRIC } from '@agentauth/observability';
import { createTestApp, type TestApp } from '../../support/app';
import { isolatedRedisPrefix } from '../../support/worker-process';
import { scrapeMetrics, valueOf } from './prometheus-text';

/**
 * `agentauth_queue_depth` in production: the API reads its BullMQ queues at every scrape. No worker runs
 * here, so whatever is enqueued stays waiting (or delayed) and shows up.
 */
describe('GET /metrics queue depths (BullMQ)', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Queues of their own: nothing else enqueues into them.
    t = await createTestApp({ REDIS_KEY_PREFIX: isolatedRedisPrefix('qdepth'), METRICS_TOKEN: undefined });
  });
  afterAll(async () => {
    await t.close();
  });

  const depths = async () => {
    const samples = await scrapeMetrics(t);
    return Object.fromEntries(QUEUE_NAMES.map((q) => [q, valueOf(samples, METRIC.queueDepth, { queue: q })]));
  };

  it('reports the waiting and delayed jobs of every queue, read at scrape time', async () => {
    const samples = await scrapeMetrics(t);
    expect(
      samples.filter((s) => s.name === METRIC.queueDepth).map((s) => `${s.labels.queue}=${s.value}`),
    ).toEqual(expect.arrayContaining(QUEUE_NAMES.map((q) => `${q}=0`)));

    const producer = t.app.get(JobsProducer);
    await producer.runMaintenanceNow();
    await producer.runMaintenanceNow();
    await producer.add(QUEUES.maintenance, MAINTENANCE_JOBS.run, {}, { delay: 3_600_000 });
    await producer.rotateSigningKeysNow();
    expect(await depths()).toEqual({
      [QUEUES.keyRotation]: 1,
      [QUEUES.maintenance]: 3,
      [QUEUES.webhooks]: 0,
    });

    // Read again at the next scrape, not remembered: emptied queues read 0.
    await producer.queue(QUEUES.maintenance).obliterate({ force: true });
    expect((await depths())[QUEUES.maintenance]).toBe(0);
  });
});
