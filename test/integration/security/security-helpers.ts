import { randomUUID } from 'node:crypto';
import { createTestApp, type TestApp } from '../../support/app';
import { redisKeyPrefix } from '../../support/test-env';
import { withDb } from '../../factories/db';

/**
 * An app whose per-IP limit is `ipLimit`, in a fresh Redis namespace: every test request comes from
 * 127.0.0.1, so a suite counting the IP's budget must not share it with other suites of the worker.
 */
export function ipLimitedApp(ipLimit: number, env: Record<string, string> = {}): Promise<TestApp> {
  return createTestApp({
    RATE_LIMIT_IP_PER_MINUTE: String(ipLimit),
    REDIS_KEY_PREFIX: `${redisKeyPrefix()}${randomUUID()}:`,
    ...env,
  });
}

/** Every audit event written while serving these requests (by request id), oldest first. */
export async function eventsOfRequests(requestIds: string[]): Promise<Record<string, unknown>[]> {
  return withDb(async (db) => {
    const { rows } = await db.query(
      `SELECT * FROM audit_events WHERE request_id = ANY($1::text[]) ORDER BY seq`,
      [requestIds],
    );
    return rows;
  });
}
