import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { databaseUrl, workerId } from '../support/test-env';

/** A superuser connection to this jest worker's database, for assertions the API cannot make. */
export async function withDb<T>(fn: (db: Client) => Promise<T>): Promise<T> {
  // worker-env sets DATABASE_URL: this worker's PostgreSQL database, or its PGlite in the embedded project
  const db = new Client({ connectionString: process.env.DATABASE_URL ?? databaseUrl(workerId()) });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

/**
 * Every agent and credential row of a tree, for "nothing was written" comparisons. `last_used_at` is left
 * out: authenticating the refused request itself records it (bookkeeping, not a write of the request).
 */
export async function treeSnapshot(
  rootAgentId: string,
): Promise<{ agents: unknown[]; credentials: unknown[] }> {
  return withDb(async (db) => {
    const agents = await db.query(`SELECT * FROM agents WHERE root_agent_id = $1 ORDER BY id`, [rootAgentId]);
    const credentials = await db.query(
      `SELECT c.id, c.agent_id, c.name, c.prefix, c.hash, c.scopes, c.status, c.expires_at, c.grace_until,
              c.rotated_to_id, c.created_at, c.revoked_at
       FROM credentials c JOIN agents a ON a.id = c.agent_id WHERE a.root_agent_id = $1 ORDER BY c.id`,
      [rootAgentId],
    );
    return { agents: agents.rows, credentials: credentials.rows };
  });
}

/** Audit events of one request. */
export async function auditEventsOf(requestId: string): Promise<Record<string, unknown>[]> {
  return withDb(async (db) => {
    const { rows } = await db.query(
      `SELECT * FROM audit_events WHERE request_id = $1 ORDER BY occurred_at, id`,
      [requestId],
    );
    return rows;
  });
}

/** Audit events about some objects (by `target_id`), in chain order. */
export async function auditEventsAbout(targetIds: string[]): Promise<Record<string, unknown>[]> {
  return withDb(async (db) => {
    const { rows } = await db.query(
      `SELECT * FROM audit_events WHERE target_id = ANY($1::text[]) ORDER BY seq`,
      [targetIds],
    );
    return rows;
  });
}

/**
 * Tables and columns holding `needle` in any text-like column (text, varchar, jsonb, json, arrays), over
 * every table of the public schema.
 */
export async function columnsContaining(needle: string): Promise<string[]> {
  return withDb(async (db) => {
    const { rows: columns } = await db.query<{ table_name: string; column_name: string }>(
      `SELECT c.table_name, c.column_name FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_name = c.table_name AND t.table_schema = c.table_schema
       WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
         AND c.data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'bytea')`,
    );
    const hits: string[] = [];
    for (const { table_name, column_name } of columns) {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM "${table_name}" WHERE strpos("${column_name}"::text, $1) > 0`,
        [needle],
      );
      if (rows[0].n !== '0') hits.push(`${table_name}.${column_name}`);
    }
    return hits;
  });
}

/**
 * Ends a refresh family `endedMsAgo` before now (created 40 days before that), as if it had lived out its
 * life: what the maintenance purge looks at.
 */
export async function endRefreshFamily(familyId: string, endedMsAgo: number): Promise<void> {
  await withDb((db) =>
    db.query(
      `UPDATE refresh_families SET expires_at = $2, created_at = $2::timestamptz - interval '40 days'
       WHERE id = $1`,
      [familyId, new Date(Date.now() - endedMsAgo)],
    ),
  );
}

/** How many rows of these refresh families are left, and of their tokens. */
export async function refreshFamilyRows(familyIds: string[]): Promise<{ families: number; tokens: number }> {
  return withDb(async (db) => {
    const { rows } = await db.query<{ families: number; tokens: number }>(
      `SELECT (SELECT count(*)::int FROM refresh_families WHERE id = ANY($1::uuid[])) AS families,
              (SELECT count(*)::int FROM refresh_tokens WHERE family_id = ANY($1::uuid[])) AS tokens`,
      [familyIds],
    );
    return rows[0];
  });
}

/**
 * A bare root agent row (no key, no token) for suites that authenticate with the test bearer: objects
 * owned by an agent (webhooks) need the owner to exist in the tree. Returns its id.
 */
export async function aRootAgentRow(id: string = randomUUID()): Promise<string> {
  await withDb((db) =>
    db.query(
      `INSERT INTO agents (id, name, root_agent_id, trust_level, depth, path)
       VALUES ($1::uuid, $2, $1::uuid, 'root', 0, $1::text || '/')`,
      [id, `root-${id.slice(0, 8)}`],
    ),
  );
  return id;
}
