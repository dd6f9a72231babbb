// Pieces shared by `make bench` (run-bench.mjs) and `make bench-ledger` (ledger.mjs).
import { readFileSync } from 'node:fs';
import pg from 'pg';

/** The CPU time (user + system, seconds) a process has used so far, from /proc; 0 once it has gone. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
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
