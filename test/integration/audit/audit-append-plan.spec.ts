import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { createScratchDatabase, type ScratchDatabase } from '../../support/scratch-database';

/**
 * The audit writer's connection lives as long as its process and PL/pgSQL keeps its plans for the session:
 * the retried-batch lookup inside `audit_append` must read the primary key even when the session planned it
 * on an empty table (migrations/1764540100000-audit-append-primary-key-lookup.ts). Observed through the
 * session's own table statistics (`pg_stat_xact_user_tables`): what ran, not an EXPLAIN of a copy. Without
 * the migration's setting the lookup scans the whole table on every call (this test then fails).
 */
describe('audit_append reads audit_events through its indexes, however young the table was', () => {
  let scratch: ScratchDatabase;
  let writer: Client;

  beforeAll(async () => {
    scratch = await createScratchDatabase('audit_append_plan');
    writer = await scratch.owner();
  });
  afterAll(async () => {
    await writer?.end();
    await scratch?.drop();
  });

  const batch = (size: number) =>
    JSON.stringify(
      Array.from({ length: size }, () => ({
        id: randomUUID(),
        occurred_at: new Date().toISOString(),
        event_type: 'token.issued',
        outcome: 'success',
        actor_agent_id: null,
        on_behalf_of: null,
        target_type: 'token',
        target_id: randomUUID(),
        root_agent_id: null,
        ip: '127.0.0.1',
        request_id: null,
        details: { n: 1 },
        head: '{"prev_hash":"',
        middle: '","seq":',
        tail: '}',
      })),
    );

  const scansOfOneBatch = async () => {
    await writer.query('BEGIN');
    try {
      await writer.query('SELECT * FROM audit_append_json($1::json)', [batch(3)]);
      const { rows } = await writer.query<{ seq_scan: string; idx_scan: string }>(
        `SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'audit_events'`,
      );
      return { seqScans: Number(rows[0].seq_scan), indexScans: Number(rows[0].idx_scan) };
    } finally {
      await writer.query('COMMIT');
    }
  };

  it('looks the batch ids up by primary key after the session has planned them on an empty table', async () => {
    // More calls than PL/pgSQL's five custom plans, starting on the empty table: the generic plan is made here.
    for (let call = 0; call < 12; call++)
      await writer.query('SELECT * FROM audit_append_json($1::json)', [batch(2)]);
    for (let check = 0; check < 3; check++) {
      const scans = await scansOfOneBatch();
      expect(scans).toEqual({ seqScans: 0, indexScans: expect.any(Number) });
      expect(scans.indexScans).toBeGreaterThanOrEqual(2); // the chain head and the stored-ids lookup
    }
  });
});
