import { UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { type AppConfig, createInProcessRedis, describeRuntimeMode, loadConfig } from '@agentauth/core';
import { InProcessJobsProducer, JobHandlers, QUEUES } from '@agentauth/jobs';

const base = { SECRET_KEY: 'a-development-secret', ADMIN_API_KEY: 'an-admin-key' };
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger;

describe('in-process Redis adapter', () => {
  const config = { redisKeyPrefix: `aa:unit:${process.pid}:` } as AppConfig;

  it('is ready, and runs defineCommand scripts with the key count from the call like ioredis', async () => {
    const redis = createInProcessRedis(config);
    expect(redis.status).toBe('ready');
    redis.defineCommand('countArgs', {
      lua: "redis.call('SET', KEYS[1], ARGV[2]) return {#KEYS, #ARGV}",
    });
    const call = (redis as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>).countArgs;
    await expect(call(2, 'k1', 'k2', 5, 'second', 7)).resolves.toEqual([2, 3]);
    // keys written by a script are the client's keys (same prefix handling)
    await expect(redis.get('k1')).resolves.toBe('second');
    redis.disconnect();
  });

  it('shares data and pub/sub with its duplicates, which are ready too', async () => {
    const redis = createInProcessRedis(config);
    const subscriber = redis.duplicate();
    expect(subscriber.status).toBe('ready');
    const heard = new Promise<string>((resolve) =>
      subscriber.on('message', (_c: string, m: string) => resolve(m)),
    );
    await subscriber.subscribe('chan');
    await redis.set('shared', 'v', 'PX', 10_000);
    await expect(redis.duplicate().get('shared')).resolves.toBe('v');
    await redis.publish('chan', 'hello');
    await expect(heard).resolves.toBe('hello');
    subscriber.disconnect();
    redis.disconnect();
  });
});

describe('InProcessJobsProducer', () => {
  const config = loadConfig({ ...base, MAINTENANCE_INTERVAL_SECONDS: '3600' });

  it('runs a job through JobHandlers, retries with backoff and stops at UnrecoverableError', async () => {
    const handlers = new JobHandlers();
    const seen: number[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    handlers.register(QUEUES.webhooks, 'deliver', async (job) => {
      seen.push(job.attemptsMade);
      if (job.attemptsMade === 0) throw new Error('retry me');
      done();
      throw new UnrecoverableError('final');
    });
    const producer = new InProcessJobsProducer(config, handlers, silent);
    const id = await producer.add(
      QUEUES.webhooks,
      'deliver',
      {},
      {
        jobId: 'd1',
        attempts: 5,
        backoff: { type: 'exponential', delay: 20 },
      },
    );
    expect(id).toBe('d1');
    // the same jobId while it exists is not added twice
    await producer.add(QUEUES.webhooks, 'deliver', {}, { jobId: 'd1' });
    await finished;
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual([0, 1]);
    await producer.onModuleDestroy();
    await expect(producer.add(QUEUES.webhooks, 'deliver', {})).rejects.toThrow(/stopping/);
    expect(() => producer.queue(QUEUES.webhooks)).toThrow(/embedded mode/);
  });
});

describe('describeRuntimeMode', () => {
  it('names the mode, where data lives and the URLs, without credentials', () => {
    expect(describeRuntimeMode(loadConfig(base, '/srv/app'), '/srv/app')).toBe(
      'AgentAuth running in embedded mode: PostgreSQL (PGlite) at ./.agentauth/pgdata, in-process Redis and jobs; API http://localhost:8000/api/v1, docs http://localhost:8000/docs',
    );
    const line = describeRuntimeMode(
      loadConfig({
        ...base,
        DATABASE_URL: 'postgresql://agentauth:s3cret@db.internal:5432/agentauth',
        REDIS_URL: 'redis://:pw@cache.internal:6379/0',
      }),
    );
    expect(line).toBe(
      'AgentAuth running in PostgreSQL/Redis mode: PostgreSQL at db.internal:5432/agentauth, Redis at cache.internal:6379/0; API http://localhost:8000/api/v1, docs http://localhost:8000/docs',
    );
    expect(line).not.toMatch(/s3cret|pw@/);
  });
});
