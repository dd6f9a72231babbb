import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { BEARER_AUTHENTICATOR, Clock, REDIS } from '@agentauth/core';
import { createTestApp, type TestApp } from '../../support/app';
import { RateLimitProbeModule, TestBearerAuthenticator } from '../../support/ratelimit-probe.controller';

const AGENT_ROUTE = '/api/v1/ratelimit-probe/agent';
const PROBE = {
  extraModules: [RateLimitProbeModule],
  overrideProviders: [{ provide: BEARER_AUTHENTICATOR, useValue: new TestBearerAuthenticator() }],
};

const call = (t: TestApp, agentId: string) =>
  request(t.http).get(AGENT_ROUTE).set('Authorization', `Bearer agent-${agentId}`);

/** Counts the rate-limit script calls an app's Redis client sends while `run` runs. */
async function scriptCalls(t: TestApp, run: () => Promise<void>): Promise<number> {
  const redis = t.app.get<Redis>(REDIS);
  let calls = 0;
  const original = redis.sendCommand.bind(redis);
  const spy = jest.spyOn(redis, 'sendCommand').mockImplementation((command, stream) => {
    if (command.name === 'evalsha' || command.name === 'eval') calls++;
    return original(command, stream);
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return calls;
}

/**
 * Quota leases (libs/ratelimit quota-lease.ts): a busy bucket is counted several requests per Redis call
 * (limit 100,000: leases up to 64; 1,000: up to 10), and on two API instances sharing one Redis the limit
 * stays a ceiling.
 */
describe.each([['100000'], ['1000']])('quota leases, RATE_LIMIT_AGENT_PER_MINUTE=%s', (limit) => {
  const LIMIT = Number(limit);
  let a: TestApp;
  beforeAll(async () => {
    a = await createTestApp({ RATE_LIMIT_AGENT_PER_MINUTE: limit }, PROBE);
  });
  afterAll(async () => {
    await a.close();
  });

  it('answers a busy agent from leases: far fewer script calls than requests, every request counted', async () => {
    const agent = randomUUID();
    const remaining: number[] = [];
    const calls = await scriptCalls(a, async () => {
      for (let i = 0; i < 150; i++) {
        const res = await call(a, agent).expect(200);
        remaining.push(Number(res.headers['ratelimit-remaining']));
      }
    });
    expect(calls).toBeLessThan(LIMIT > 1_000 ? 20 : 40);
    // one process, one request at a time: RateLimit-Remaining counts down one by one as without leases
    expect(remaining).toEqual(remaining.map((_, i) => LIMIT - 1 - i));
    const counted = await a.app.get<Redis>(REDIS).zcard(`rl:{agent:${agent}}`);
    expect(counted).toBeGreaterThanOrEqual(150);
    expect(counted).toBeLessThanOrEqual(150 + Math.min(64, LIMIT / 100));
  });

  it('spends a lease only until 500 ms after the time its slots were counted at, however late the reply', async () => {
    const agent = randomUUID();
    const clock = a.app.get(Clock);
    const redis = a.app.get<Redis>(REDIS);
    for (let i = 0; i < 8; i++) await call(a, agent).expect(200); // busy: the next lease holds several slots
    let delayed = false;
    const original = redis.sendCommand.bind(redis);
    const spy = jest.spyOn(redis, 'sendCommand').mockImplementation((command, stream) => {
      if (!delayed && command.name === 'evalsha') {
        delayed = true;
        clock.advance(400); // the reply comes back 400 ms after the script counted the lease's slots
      }
      return original(command, stream);
    });
    try {
      for (let i = 0; i < 100 && !delayed; i++) await call(a, agent).expect(200);
    } finally {
      spy.mockRestore();
    }
    expect(delayed).toBe(true);
    clock.advance(200); // 600 ms after the slots' time: the lease is over, whatever is left of it
    expect(await scriptCalls(a, async () => void (await call(a, agent).expect(200)))).toBe(1);
    clock.reset();
  });

  it('counts leased slots at now + the lease lifetime: none ages out before the request spending it would', async () => {
    const agent = randomUUID();
    const before = a.app.get(Clock).nowMs();
    for (let i = 0; i < 40; i++) await call(a, agent).expect(200);
    const after = a.app.get(Clock).nowMs();
    const scores = (await a.app.get<Redis>(REDIS).zrange(`rl:{agent:${agent}}`, 0, -1, 'WITHSCORES'))
      .filter((_, i) => i % 2 === 1)
      .map(Number);
    const ahead = scores.filter((s) => s > after);
    expect(ahead.length).toBeGreaterThan(0);
    for (const score of ahead) expect(score).toBeLessThanOrEqual(after + 500);
    for (const score of scores) expect(score).toBeGreaterThanOrEqual(before);
  });
});

describe('quota leases past the limit, two instances', () => {
  const LIMIT = 1_000;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await createTestApp({ RATE_LIMIT_AGENT_PER_MINUTE: String(LIMIT) }, PROBE);
    b = await createTestApp({ RATE_LIMIT_AGENT_PER_MINUTE: String(LIMIT) }, PROBE);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('never lets more than the limit through across two instances, and refuses at most a lease per instance early', async () => {
    const agent = randomUUID();
    const statuses: number[] = [];
    for (let round = 0; round < 75; round++) {
      const batch = await Promise.all(
        Array.from({ length: 16 }, (_, i) => call(i % 2 === 0 ? a : b, agent).then((r) => r.status)),
      );
      statuses.push(...batch);
    }
    const admitted = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(admitted).toBeLessThanOrEqual(LIMIT);
    expect(admitted).toBeGreaterThanOrEqual(LIMIT - 2 * 10);
    expect(await a.app.get<Redis>(REDIS).zcard(`rl:{agent:${agent}}`)).toBeLessThanOrEqual(LIMIT);

    // refused locally until Retry-After: no script call, the same 429, one audit event for the window
    const calls = await scriptCalls(a, async () => {
      for (let i = 0; i < 10; i++) {
        const res = await call(a, agent).expect(429);
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(res.headers['ratelimit-remaining']).toBe('0');
      }
    });
    expect(calls).toBe(0);
    const rows = await a.app
      .get(DataSource)
      .query(`SELECT 1 FROM audit_events WHERE event_type = 'rate_limit.exceeded' AND actor_agent_id = $1`, [
        agent,
      ]);
    expect(rows).toHaveLength(1);
  });
});
