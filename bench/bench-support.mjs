// Pieces shared by `make bench` (run-bench.mjs) and `make bench-ledger` (ledger.mjs).
import { readFileSync } from 'node:fs';
import pg from 'pg';

/** The CPU time a process has used so far (seconds, from /proc): user, system (the kernel's work on its behalf). */
export function cpuTimes(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** The CPU time (user + system, seconds) a process has used so far, from /proc; 0 once it has gone. */
export function cpuSeconds(pid) {
  const { user, system } = cpuTimes(pid);
  return user + system;
}

/** One statement as the PostgreSQL superuser (creating and dropping the scratch database). */
export async function adminQuery(adminUrl, sql) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The server processes of every connection to database `dbName` (PostgreSQL on this machine). */
export async function databaseBackendPids(adminUrl, dbName) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName]);
    return rows.map((row) => Number(row.pid));
  } finally {
    await client.end();
  }
}

/**
 * The image's `NODE_OPTIONS` (deploy/Dockerfile's `ENV … NODE_OPTIONS=…`), so the benches run the API with
 * exactly the V8 settings production gets. `BENCH_NODE_OPTIONS` overrides it (to measure another setting).
 */
export function imageNodeOptions(root) {
  if (process.env.BENCH_NODE_OPTIONS !== undefined) return process.env.BENCH_NODE_OPTIONS;
  const dockerfile = readFileSync(`${root}/deploy/Dockerfile`, 'utf8');
  const match = /NODE_OPTIONS="?([^"\n\\]+?)"?\s*(?:\\|\n)/.exec(dockerfile);
  if (!match) throw new Error('deploy/Dockerfile sets no NODE_OPTIONS');
  return match[1].trim();
}
