import { randomUUID } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { AgentRateLimit1764401300000 } from '../../../migrations/1764401300000-agent-rate-limit';
import { withDb } from '../../factories/db';

/**
 * The override moves from `metadata.rate_limit_per_minute` (writable by the agent itself) to the governed
 * column. Run inside a transaction on this worker's database and rolled back: down, old-style rows, up.
 */
describe('migration AgentRateLimit1764401300000', () => {
  it("moves valid non-root overrides into the column, drops roots' and invalid ones, strips the key", async () => {
    await withDb(async (db) => {
      const q = { query: (sql: string) => db.query(sql) } as unknown as QueryRunner;
      const migration = new AgentRateLimit1764401300000();
      await db.query('BEGIN');
      try {
        await migration.down(q);
        const root = randomUUID();
        const rows: [string, string | null, unknown][] = [
          [root, null, { rate_limit_per_minute: 9_000_000, team: 'a' }],
          [randomUUID(), root, { rate_limit_per_minute: 25 }],
          [randomUUID(), root, { rate_limit_per_minute: 0 }],
          [randomUUID(), root, { rate_limit_per_minute: '40' }],
          [randomUUID(), root, { rate_limit_per_minute: 2.5 }],
          [randomUUID(), root, { other: 1 }],
        ];
        for (const [id, parent, metadata] of rows) {
          await db.query(
            `INSERT INTO agents (id, name, parent_agent_id, root_agent_id, trust_level, metadata, depth, path)
             VALUES ($1, 'a', $2, $3, $4, $5, $6, $7)`,
            [
              id,
              parent,
              root,
              parent ? 'delegated' : 'root',
              JSON.stringify(metadata),
              parent ? 1 : 0,
              parent ? `${root}/${id}/` : `${root}/`,
            ],
          );
        }
        await migration.up(q);
        const { rows: after } = await db.query<{
          id: string;
          rate_limit_per_minute: number | null;
          metadata: unknown;
        }>(`SELECT id, rate_limit_per_minute, metadata FROM agents WHERE root_agent_id = $1`, [root]);
        const byId = new Map(after.map((r) => [r.id, r]));
        expect(rows.map(([id]) => byId.get(id))).toEqual([
          { id: rows[0][0], rate_limit_per_minute: null, metadata: { team: 'a' } }, // a root's: operator only
          { id: rows[1][0], rate_limit_per_minute: 25, metadata: {} },
          { id: rows[2][0], rate_limit_per_minute: null, metadata: {} },
          { id: rows[3][0], rate_limit_per_minute: null, metadata: {} },
          { id: rows[4][0], rate_limit_per_minute: null, metadata: {} },
          { id: rows[5][0], rate_limit_per_minute: null, metadata: { other: 1 } },
        ]);
      } finally {
        await db.query('ROLLBACK');
      }
    });
  });
});
