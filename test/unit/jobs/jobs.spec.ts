import type { Job } from 'bullmq';
import { Test } from '@nestjs/testing';
import { PinoLogger } from 'nestjs-pino';
import type { AppConfig } from '@agentauth/core';
import {
  bullConnection,
  bullPrefix,
  JobHandlers,
  MaintenanceTaskError,
  MaintenanceTasks,
  QUEUES,
} from '@agentauth/jobs';
import { KeyRotationProcessor, MaintenanceProcessor } from '@agentauth/job-processors';

const silentLogger = () =>
  ({
    setContext: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    debug: () => undefined,
  }) as unknown as PinoLogger;

const fakeJob = (name: string) => ({ name, data: {}, attemptsMade: 0, opts: {} }) as unknown as Job;

describe('bullConnection', () => {
  const config = (redisUrl: string | undefined) => ({ redisUrl, redisKeyPrefix: 'aa:t:' }) as AppConfig;

  it('turns REDIS_URL into BullMQ options without an ioredis keyPrefix', () => {
    expect(bullConnection(config('rediss://u%40x:p%3Ass@cache.example:6380/3'))).toEqual({
      host: 'cache.example',
      port: 6380,
      username: 'u@x',
      password: 'p:ss',
      db: 3,
      tls: {},
      maxRetriesPerRequest: null,
    });
    expect(bullConnection(config('redis://127.0.0.1'))).toMatchObject({ port: 6379, db: 0, tls: undefined });
    expect(bullConnection(config('redis://127.0.0.1'))).not.toHaveProperty('keyPrefix');
    expect(() => bullConnection(config(undefined))).toThrow(/REDIS_URL/);
  });

  it('puts the queues under the deployment key prefix', () => {
    expect(bullPrefix(config('redis://x'))).toBe('aa:t:bull');
  });
});

describe('JobHandlers', () => {
  it('dispatches by queue and job name and refuses a second handler for the same job', () => {
    const handlers = new JobHandlers();
    const handler = async () => 1;
    handlers.register(QUEUES.maintenance, 'run', handler);
    expect(handlers.handlerFor(QUEUES.maintenance, 'run')).toBe(handler);
    expect(handlers.handlerFor(QUEUES.maintenance, 'other')).toBeUndefined();
    expect(handlers.handlerFor(QUEUES.webhooks, 'run')).toBeUndefined();
    expect(handlers.queues()).toEqual([QUEUES.maintenance]);
    expect(() => handlers.register(QUEUES.maintenance, 'run', handler)).toThrow(/already registered/);
  });
});

describe('MaintenanceTasks', () => {
  it('runs every task; a failing one does not stop the others, and the run then throws', async () => {
    const tasks = new MaintenanceTasks();
    const ran: string[] = [];
    tasks.register({ name: 'a', run: async () => (ran.push('a'), { expired: 2 }) });
    tasks.register({ name: 'b', run: async () => Promise.reject(new Error('db down')) });
    tasks.register({ name: 'c', run: async () => (ran.push('c'), { purged: 0 }) });
    expect(() => tasks.register({ name: 'a', run: async () => ({}) })).toThrow(/already registered/);
    const error = await tasks.runAll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MaintenanceTaskError);
    expect((error as MaintenanceTaskError).outcome).toEqual({
      results: { a: { expired: 2 }, c: { purged: 0 } },
      failures: { b: 'db down' },
    });
    expect(ran).toEqual(['a', 'c']);
  });

  it('returns every result when all succeed (none registered: an empty run)', async () => {
    expect(await new MaintenanceTasks().runAll()).toEqual({ results: {}, failures: {} });
  });
});

describe('worker processors', () => {
  it('key-rotation jobs call the registered task', async () => {
    const calls: string[] = [];
    const task = {
      rotate: async () => (calls.push('rotate'), { kid: 'k2' }),
      advance: async () => (calls.push('advance'), { activated: 1 }),
    };
    const handlers = new JobHandlers();
    new KeyRotationProcessor(handlers, silentLogger(), task).onModuleInit();
    expect(await handlers.handlerFor(QUEUES.keyRotation, 'rotate')!(fakeJob('rotate'))).toEqual({
      kid: 'k2',
    });
    expect(await handlers.handlerFor(QUEUES.keyRotation, 'advance')!(fakeJob('advance'))).toEqual({
      activated: 1,
    });
    expect(calls).toEqual(['rotate', 'advance']);
  });

  it('cannot be built without KEY_ROTATION_TASK: the process refuses to start, naming it', async () => {
    const build = Test.createTestingModule({
      providers: [KeyRotationProcessor, JobHandlers, { provide: PinoLogger, useValue: silentLogger() }],
    }).compile();
    await expect(build).rejects.toThrow(/KEY_ROTATION_TASK/);
  });

  it('the maintenance job runs the registered tasks and fails when one fails', async () => {
    const tasks = new MaintenanceTasks();
    let healthy = true;
    tasks.register({
      name: 'expire',
      run: async () => (healthy ? { expired: 1 } : Promise.reject(new Error('x'))),
    });
    const handlers = new JobHandlers();
    new MaintenanceProcessor(handlers, tasks, silentLogger()).onModuleInit();
    const run = handlers.handlerFor(QUEUES.maintenance, 'run')!;
    expect(await run(fakeJob('run'))).toEqual({ expire: { expired: 1 } });
    healthy = false;
    await expect(run(fakeJob('run'))).rejects.toBeInstanceOf(MaintenanceTaskError);
  });
});
