import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AUDIT_OPTIONS, AuditService, DEFAULT_AUDIT_OPTIONS } from '@agentauth/audit';
import { APP_CONFIG } from '@agentauth/core';
import { DataSource } from 'typeorm';
import { ApiModule } from '../../../apps/api/src/api.module';
import { migrationDataSource } from '../../../migrations/data-source';
import { AuditAppendSingleInsert1764401000000 } from '../../../migrations/1764401000000-audit-append-single-insert';
import { auditVerify } from '../../../scripts/audit-verify';
import { createTestApp, type TestApp } from '../../support/app';
import { AuditProbeModule } from '../../support/audit-probe.controller';
import { type InsertStatementCount, installInsertStatementCounter } from '../../support/audit';
import { createScratchDatabase, type ScratchDatabase } from '../../support/scratch-database';

/**
 * Group commit: many concurrent audited requests share few INSERTs, and nothing is lost or doubled. On a
 * scratch database of its own: a test-only statement trigger counts the INSERTs the database runs.
 */
describe('group commit of audit events', () => {
  let scratch: ScratchDatabase;
  let t: TestApp;
  let base: string;
  let db: Client;
  let insertStatements: () => Promise<InsertStatementCount>;

  beforeAll(async () => {
    scratch = await createScratchDatabase('audit_group_commit');
    db = await scratch.owner();
    insertStatements = await installInsertStatementCounter(db);
    t = await createTestApp({ DATABASE_URL: scratch.url }, { extraModules: [AuditProbeModule] });
    // A real listening socket: 200 supertest calls on an unbound server would each try to bind it.
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await t?.close();
    await scratch?.drop();
  });

  const recordConcurrently = (run: string, count: number) =>
    Promise.all(
      Array.from({ length: count }, (_, i) =>
        t.app
          .get(AuditService)
          .record({ eventType: 'probe.batched', outcome: 'success', requestId: `${run}-${i}` }),
      ),
    );

  it('200 concurrent audited requests: 200 events, one valid chain, fewer INSERTs than events', async () => {
    const audit = t.app.get(AuditService);
    const batches: number[] = [];
    const before = await insertStatements();
    const off = audit.onBatchCommitted((size) => batches.push(size));
    const run = `gc-${randomUUID()}`;
    const actor = randomUUID();
    let responses: request.Response[];
    try {
      responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          request(base)
            .post('/api/v1/audit-probe/things')
            .set({ 'X-Request-ID': `${run}-${i}`, 'X-Probe-Actor': actor })
            .send({ name: `thing-${i}` }),
        ),
      );
    } finally {
      off();
    }
    const after = await insertStatements();
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(201));

    const { rows } = await db.query<{ request_id: string; n: string; target_id: string }>(
      `SELECT request_id, count(*) AS n, min(target_id) AS target_id FROM audit_events
       WHERE request_id LIKE $1 GROUP BY request_id`,
      [`${run}-%`],
    );
    expect(rows).toHaveLength(200); // every request has its event…
    expect(rows.every((r) => r.n === '1')).toBe(true); // …exactly once
    const targets = new Map(rows.map((r) => [r.request_id, r.target_id]));
    responses.forEach((res, i) => expect(targets.get(`${run}-${i}`)).toBe(res.body.id));

    // What the database ran (the statement trigger): the 200 rows came in fewer INSERT statements, one per
    // committed batch.
    const written = { statements: after.statements - before.statements, rows: after.rows - before.rows };
    expect(written.rows).toBe(batches.reduce((a, b) => a + b, 0));
    expect(written.rows).toBeGreaterThanOrEqual(200);
    expect(written.statements).toBeLessThan(200);
    expect(written.statements).toBe(batches.length);
    expect(Math.max(...batches)).toBeGreaterThan(1);
    expect(Math.max(...batches)).toBeLessThanOrEqual(100);

    await expect(audit.verifyChain()).resolves.toMatchObject({ valid: true });
  });

  it('the migration’s down restores one INSERT per event, and rows of both versions form one valid chain', async () => {
    const migration = new AuditAppendSingleInsert1764401000000();
    const ds = await migrationDataSource(scratch.url).initialize();
    const queryRunner = ds.createQueryRunner();
    try {
      await migration.down(queryRunner);
      const before = await insertStatements();
      await recordConcurrently(`row-by-row-${randomUUID()}`, 20);
      const after = await insertStatements();
      expect(after.statements - before.statements).toBe(20);
      expect(after.rows - before.rows).toBe(20);
      await migration.up(queryRunner);
      await recordConcurrently(`batched-${randomUUID()}`, 20);
      const restored = await insertStatements();
      expect(restored.rows - after.rows).toBe(20);
      expect(restored.statements - after.statements).toBeLessThan(20);
    } finally {
      await queryRunner.release();
      await ds.destroy();
    }
    await expect(t.app.get(AuditService).verifyChain()).resolves.toMatchObject({ valid: true });
    await expect(auditVerify({ DATABASE_URL: scratch.url })).resolves.toMatchObject({ exitCode: 0 });
  });

  it('flushes queued events when the module is destroyed (graceful shutdown)', async () => {
    // A writer that would wait a whole minute for company: only the shutdown flush can write these events.
    const moduleRef = await Test.createTestingModule({ imports: [ApiModule] })
      .overrideProvider(APP_CONFIG)
      .useValue(t.config)
      .overrideProvider(AUDIT_OPTIONS)
      .useValue({ ...DEFAULT_AUDIT_OPTIONS, maxDelayMs: 60_000 })
      .compile();
    await moduleRef.init();
    const audit = moduleRef.get(AuditService);
    const run = `shutdown-${randomUUID()}`;
    const stored = async () =>
      (
        await db.query<{ n: string }>(`SELECT count(*) AS n FROM audit_events WHERE request_id LIKE $1`, [
          `${run}-%`,
        ])
      ).rows[0].n;
    const pending = Array.from({ length: 20 }, (_, i) =>
      audit.record({ eventType: 'probe.shutdown', outcome: 'success', requestId: `${run}-${i}` }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await stored()).toBe('0'); // still queued
    await moduleRef.close();
    await expect(Promise.all(pending)).resolves.toHaveLength(20);
    expect(await stored()).toBe('20');
  });

  it('is never starved by callers that hold every pooled connection while they wait for their event', async () => {
    const small = await createTestApp({ DATABASE_URL: scratch.url, DATABASE_POOL_SIZE: '2' });
    try {
      const dataSource = small.app.get(DataSource);
      const audit = small.app.get(AuditService);
      const run = `starve-${randomUUID()}`;
      // 6 callers, 2 pooled connections, each caller inside a transaction when it records.
      const started = Date.now();
      await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          dataSource.transaction(async (m) => {
            await m.query('SELECT 1');
            await audit.record({
              eventType: 'probe.in_transaction',
              outcome: 'success',
              requestId: `${run}-${i}`,
            });
          }),
        ),
      );
      expect(Date.now() - started).toBeLessThan(3000); // the pool's connect timeout is 5 s
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM audit_events WHERE request_id LIKE $1`,
        [`${run}-%`],
      );
      expect(rows[0].n).toBe('6');
    } finally {
      await small.close();
    }
  });
});
