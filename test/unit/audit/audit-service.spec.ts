import { Clock, Problem, ServiceUnavailableProblem } from '@agentauth/core';
import type { PinoLogger } from 'nestjs-pino';
import { QueryFailedError } from 'typeorm';
import {
  linkEvents,
  type PendingAuditEvent,
  type RecordedAuditEvent,
} from '../../../libs/audit/src/audit-chain';
import type { AuditRepository } from '../../../libs/audit/src/audit.repository';
import { AuditService, isTransientDatabaseError } from '../../../libs/audit/src/audit.service';

function pgError(code: string): QueryFailedError {
  return new QueryFailedError('INSERT …', [], Object.assign(new Error(`pg ${code}`), { code }));
}

/** A repository double: each call to appendBatch pops the next planned behaviour. */
function fakeRepository(plan: ('ok' | Error)[]) {
  const calls: { ids: string[] }[] = [];
  let stored: RecordedAuditEvent[] = [];
  const repository = {
    appendBatch: jest.fn(async (events: PendingAuditEvent[]) => {
      calls.push({ ids: events.map((e) => e.id) });
      const step = plan.shift() ?? 'ok';
      if (step instanceof Error) throw step;
      const last = stored[stored.length - 1];
      const linked = linkEvents(last ? { seq: last.seq, hash: last.hash } : null, events);
      stored = [...stored, ...linked];
      return linked;
    }),
  };
  return { repository: repository as unknown as AuditRepository, calls, stored: () => stored };
}

const logger = {
  setContext: jest.fn(),
  info: jest.fn(),
  warn: jest.fn(),
  error: jest.fn(),
} as unknown as PinoLogger;

function service(repository: AuditRepository) {
  return new AuditService(repository, new Clock(), logger, {
    maxBatchSize: 10,
    maxDelayMs: 1,
    maxPending: 100,
    retryDelaysMs: [1, 1],
  });
}

describe('isTransientDatabaseError', () => {
  it.each(['40001', '40P01', '55P03', '57014', '57P01', '08006', '23505'])('retries SQLSTATE %s', (code) =>
    expect(isTransientDatabaseError(pgError(code))).toBe(true),
  );
  it.each(['42501', '23514', '22P02', '42P01'])('does not retry SQLSTATE %s', (code) =>
    expect(isTransientDatabaseError(pgError(code))).toBe(false),
  );
  it('retries a lost connection reported by a Node errno', () => {
    expect(isTransientDatabaseError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))).toBe(true);
    expect(isTransientDatabaseError(new Error('timeout exceeded when trying to connect'))).toBe(true);
  });

  it('retries a lost connection (no SQLSTATE)', () => {
    expect(
      isTransientDatabaseError(Object.assign(new Error('Connection terminated'), { code: 'ECONNRESET' })),
    ).toBe(true);
  });
});

describe('AuditService (with a repository double)', () => {
  it('retries a batch that failed for a transient reason with the same events (the repository is idempotent by id)', async () => {
    const fake = fakeRepository([pgError('40P01'), 'ok']);
    const audit = service(fake.repository);
    const sizes: number[] = [];
    audit.onBatchCommitted((n) => sizes.push(n));
    await Promise.all(
      [1, 2, 3].map((n) => audit.record({ eventType: 'probe.x', outcome: 'success', details: { n } })),
    );
    expect(fake.calls).toHaveLength(2);
    expect(fake.calls[1].ids).toEqual(fake.calls[0].ids); // the same events, the same ids
    expect(fake.stored()).toHaveLength(3);
    expect(sizes).toEqual([3]);
    await audit.onModuleDestroy();
  });

  it('fails every event of a batch with 503 on a permanent error, without retrying', async () => {
    const fake = fakeRepository([pgError('42501')]);
    const audit = service(fake.repository);
    const results = await Promise.allSettled(
      [1, 2].map((n) => audit.record({ eventType: 'probe.x', outcome: 'success', details: { n } })),
    );
    expect(fake.calls).toHaveLength(1);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason as Problem;
      expect(reason).toBeInstanceOf(ServiceUnavailableProblem);
      expect(reason.status).toBe(503);
    }
    await audit.onModuleDestroy();
  });

  it('gives up after the configured retries', async () => {
    const fake = fakeRepository([pgError('40001'), pgError('40001'), pgError('40001'), 'ok']);
    const audit = service(fake.repository);
    await expect(audit.record({ eventType: 'probe.x', outcome: 'success' })).rejects.toBeInstanceOf(
      ServiceUnavailableProblem,
    );
    expect(fake.calls).toHaveLength(3);
    await audit.onModuleDestroy();
  });

  it("recordAll writes a cascade's events in order, a batch at a time, whatever its size (beyond maxPending)", async () => {
    const fake = fakeRepository([]);
    const audit = service(fake.repository); // maxBatchSize 10, maxPending 100
    const sizes: number[] = [];
    audit.onBatchCommitted((n) => sizes.push(n));
    const inputs = Array.from({ length: 250 }, (_, n) => ({
      eventType: 'probe.x',
      outcome: 'success' as const,
      details: { n },
    }));
    await audit.recordAll(inputs);
    expect(fake.stored().map((e) => e.details.n)).toEqual(inputs.map((_, n) => n));
    // A batch at a time: never more than maxBatchSize in one commit. (How a slice splits across the time
    // window depends on the machine's load: exact sizes would make this a timed test.)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(250);
    await audit.onModuleDestroy();
  });

  it('recordAll rejects with 503 when a batch fails, and queues nothing after it', async () => {
    const fake = fakeRepository(['ok', pgError('42501')]);
    const audit = service(fake.repository);
    const inputs = Array.from({ length: 30 }, () => ({ eventType: 'probe.x', outcome: 'success' as const }));
    await expect(audit.recordAll(inputs)).rejects.toBeInstanceOf(ServiceUnavailableProblem);
    expect(fake.calls).toHaveLength(2);
    expect(fake.stored()).toHaveLength(10);
    await audit.onModuleDestroy();
  });

  it('hands committed events to onRecorded subscribers, and a failing subscriber harms nobody', async () => {
    const fake = fakeRepository([]);
    const audit = service(fake.repository);
    const heard: RecordedAuditEvent[] = [];
    audit.onRecorded(() => {
      throw new Error('subscriber bug');
    });
    const off = audit.onRecorded((e) => heard.push(e));
    await audit.record({ eventType: 'probe.x', outcome: 'denied', targetId: 't-1' });
    off();
    await audit.record({ eventType: 'probe.y', outcome: 'success' });
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ eventType: 'probe.x', outcome: 'denied', targetId: 't-1', seq: 1 });
    await audit.onModuleDestroy();
  });
});
