import * as fs from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { Client } from 'pg';
import { armExitWatchdog } from './exit-watchdog';
import { LOG_DIR } from './log-capture';
import { adminUrl, redisUrl, runId, TEST_DB_PREFIX } from './test-env';

const REQUIRED_FIELDS = ['service_name', 'environment', 'hostname', 'timestamp', 'level', 'msg'];

/**
 * Drops this run's databases and Redis keys, then checks every log line the app printed during the run:
 * each must be a JSON object with the required fields (CONTRACT §7). A bad line fails the run.
 */
export default async function globalTeardown(): Promise<void> {
  const id = runId();
  await dropDatabasesAndKeys(id);
  checkLogLines(id);
  armExitWatchdog();
}

async function dropDatabasesAndKeys(id: string): Promise<void> {
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1`,
      [`${TEST_DB_PREFIX}${id}_%`],
    );
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  await deleteTestKeys((runOfKey) => runOfKey === id);
}

/** Deletes the test keys (`aa:test:<run id>:…`) whose run id `doomed` picks, in SCAN pages. */
export async function deleteTestKeys(doomed: (runOfKey: string) => boolean): Promise<void> {
  const redis = new Redis(redisUrl());
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'aa:test:*', 'COUNT', 1000);
      const mine = keys.filter((key) => doomed(key.split(':')[2]));
      if (mine.length > 0) await redis.del(...mine);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Every log line of this run must be a JSON object with the required fields (CONTRACT §7). */
export function checkLogLines(id: string): void {
  const problems: string[] = [];
  let count = 0;
  for (const file of fs.existsSync(LOG_DIR) ? fs.readdirSync(LOG_DIR) : []) {
    if (!file.startsWith(`${id}-`)) continue;
    const full = path.join(LOG_DIR, file);
    for (const line of fs.readFileSync(full, 'utf8').split('\n')) {
      if (!line) continue;
      count++;
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        const missing = REQUIRED_FIELDS.filter((f) => parsed[f] === undefined);
        if (missing.length) problems.push(`missing ${missing.join(',')}: ${line.slice(0, 200)}`);
        else if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(String(parsed.timestamp)))
          problems.push(`timestamp not ISO 8601 UTC: ${line.slice(0, 200)}`);
      } catch {
        problems.push(`not JSON: ${line.slice(0, 200)}`);
      }
    }
    fs.rmSync(full);
  }
  if (problems.length > 0) {
    throw new Error(
      `${problems.length} of ${count} log lines are not structured:\n${problems.slice(0, 20).join('\n')}`,
    );
  }
  process.stdout.write(`\nlog check: ${count} log lines, all JSON with ${REQUIRED_FIELDS.join(', ')}\n`);
}
