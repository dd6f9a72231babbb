import { randomBytes, randomUUID } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { ResourceServers1764510000000 } from '../../../migrations/1764510000000-resource-servers';
import { withDb } from '../../factories/db';

const OLD_BUILT_INS = [
  'agents:read',
  'agents:write',
  'credentials:read',
  'credentials:write',
  'delegations:read',
  'delegations:write',
  'policies:read',
  'policies:write',
  'scopes:read',
  'scopes:write',
  'tokens:introspect',
  'webhooks:read',
  'webhooks:write',
];
const NEW = ['resource-servers:read', 'resource-servers:write'];

/**
 * Existing root agents gain the two new built-in scopes, and so do their "full" keys (holding everything the
 * root held); narrower keys and non-root agents do not. Run inside a transaction on this worker's database
 * and rolled back: down, old-style rows, up.
 */
describe('migration ResourceServers1764510000000', () => {
  it('grants resource-servers:read|write to existing roots and their full keys only; down removes them', async () => {
    await withDb(async (db) => {
      const q = {
        query: (sql: string, params?: unknown[]) => db.query(sql, params),
      } as unknown as QueryRunner;
      const migration = new ResourceServers1764510000000();
      await db.query('BEGIN');
      try {
        await migration.down(q);
        const root = randomUUID();
        const child = randomUUID();
        for (const [id, parent, scopes] of [
          [root, null, OLD_BUILT_INS],
          [child, root, ['agents:read']],
        ] as [string, string | null, string[]][]) {
          await db.query(
            `INSERT INTO agents (id, name, parent_agent_id, root_agent_id, trust_level, allowed_scopes, depth, path)
             VALUES ($1, 'a', $2, $3, $4, $5, $6, $7)`,
            [
              id,
              parent,
              root,
              parent ? 'delegated' : 'root',
              scopes,
              parent ? 1 : 0,
              parent ? `${root}/${id}/` : `${root}/`,
            ],
          );
        }
        const key = async (agentId: string, scopes: string[]) => {
          const rows = await db.query<{ id: string }>(
            `INSERT INTO credentials (agent_id, type, prefix, hash, scopes) VALUES ($1, 'api_key', $2, '$argon2id$x', $3) RETURNING id`,
            [agentId, randomBytes(8).toString('hex'), scopes],
          );
          return rows.rows[0].id;
        };
        const fullKey = await key(root, OLD_BUILT_INS);
        const narrowKey = await key(root, ['agents:read']);
        const childKey = await key(child, ['agents:read']);

        await migration.up(q);
        const scopesOf = async (table: 'agents' | 'credentials', id: string) =>
          (
            await db.query<{ s: string[] }>(
              `SELECT ${table === 'agents' ? 'allowed_scopes' : 'scopes'} AS s FROM ${table} WHERE id = $1`,
              [id],
            )
          ).rows[0].s;
        expect(await scopesOf('agents', root)).toEqual([...OLD_BUILT_INS, ...NEW].sort());
        expect(await scopesOf('credentials', fullKey)).toEqual([...OLD_BUILT_INS, ...NEW].sort());
        expect(await scopesOf('credentials', narrowKey)).toEqual(['agents:read']);
        expect(await scopesOf('agents', child)).toEqual(['agents:read']);
        expect(await scopesOf('credentials', childKey)).toEqual(['agents:read']);
        const seeded = await db.query(
          `SELECT name FROM scopes WHERE root_agent_id IS NULL AND name = ANY($1)`,
          [NEW],
        );
        expect(seeded.rows).toHaveLength(2);

        await migration.down(q);
        expect(await scopesOf('agents', root)).toEqual([...OLD_BUILT_INS].sort());
        expect(await scopesOf('credentials', fullKey)).toEqual([...OLD_BUILT_INS].sort());
        await migration.up(q);
      } finally {
        await db.query('ROLLBACK');
      }
    });
  });
});
