import { Client } from 'pg';

/**
 * Runs SQL on this jest worker's database as the owner (not the least-privilege app role): for test set-up
 * and for inspecting columns the app never returns (e.g. encrypted key material).
 */
export async function ownerQuery<T = Record<string, unknown>>(
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    const result = await client.query(sql, params);
    return result.rows as T[];
  } finally {
    await client.end();
  }
}
