import { createHash } from 'node:crypto';
import { Client } from 'pg';
import type { Response } from 'supertest';
import { RefreshTokensRepository } from '../../../libs/auth/src/refresh/refresh-tokens.repository';
import { createTestApp, type TestApp } from '../../support/app';
import { aKey, anAgent, aTree, requestToken } from '../../factories/agents';
import { auditEventsOf, withDb } from '../../factories/db';
import { within } from '../../factories/policies';
import { refreshGrant } from '../delegations/grant-helpers';
import { claimsOf, isActive } from './auth-helpers';

const CONCURRENT = 6;

/**
 * CONTRACT §4: "of N concurrent uses of one valid refresh token exactly one succeeds; the others are reuse",
 * decided by ONE atomic statement (`UPDATE … WHERE status = 'active' RETURNING`, RefreshTokensRepository
 * .consume). The 20-way race of refresh-tokens.spec.ts would also pass if the requests ran one after another
 * (a late one sees `used` at its lookup). Here a second connection holds the token's row lock while N
 * refreshes start, so all N pass the lookup (the token is still active) and queue on the UPDATE; then the
 * lock is released and the statement alone picks the winner. It needs concurrent PostgreSQL connections, so
 * it does not run on the embedded mode's one-connection PGlite (jest.config.js, NOT_EMBEDDED).
 */
describe('concurrent refreshes of one token, decided by the atomic rotation statement', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => jest.restoreAllMocks());

  it(`of ${CONCURRENT} uses queued on the row lock exactly one consumes it; the others are reuse`, async () => {
    const root = await aTree(t);
    const agent = await aKey(t, root, await anAgent(t, root, { allowed_scopes: ['agents:read'] }));
    const granted = await requestToken(t, agent, { scope: 'agents:read offline_access' }).expect(200);
    const refreshToken = granted.body.refresh_token as string;
    const familyId = claimsOf(granted.body.access_token).fam as string;
    const hash = createHash('sha256').update(refreshToken).digest('hex');
    // The repository's real answers (no fake: the spy calls through).
    const consume = jest.spyOn(t.app.get(RefreshTokensRepository), 'consume');

    const holder = new Client({ connectionString: process.env.DATABASE_URL });
    await holder.connect();
    let racing: Promise<Response[]> | undefined;
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT id FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, [hash]);
      racing = Promise.all(
        Array.from({ length: CONCURRENT }, () => refreshGrant(t, agent, refreshToken).then((r) => r)),
      );
      // Every request is past its lookup and blocked inside the rotation statement.
      // (Another connection: inside a transaction pg_stat_activity is a snapshot taken at its first read.)
      const queued = await within(10_000, async () => {
        const { rows } = await withDb((db) =>
          db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'UPDATE refresh_tokens SET status = ''used''%'`,
          ),
        );
        return rows[0].n === CONCURRENT;
      });
      expect(queued).not.toBeNull();
      expect(consume).toHaveBeenCalledTimes(CONCURRENT);
    } finally {
      await holder.query('COMMIT');
      await holder.end();
    }
    const results = await racing;

    // The statement decided: one row back, N-1 nothing.
    const consumed = await Promise.all(
      consume.mock.results.map((r) => r.value as Promise<{ id: string; familyId: string } | null>),
    );
    expect(consumed.filter((row) => row !== null)).toEqual([{ id: expect.any(String), familyId }]);
    expect(consumed.filter((row) => row === null)).toHaveLength(CONCURRENT - 1);

    // One 200; the others invalid_grant, each classified as reuse of a used token.
    const winners = results.filter((r) => r.status === 200);
    const losers = results.filter((r) => r.status !== 200);
    expect(winners).toHaveLength(1);
    expect(losers.map((r) => [r.status, r.body.error])).toEqual(
      Array.from({ length: CONCURRENT - 1 }, () => [400, 'invalid_grant']),
    );
    const reuses = await Promise.all(
      losers.map(async (r) => (await auditEventsOf(r.headers['x-request-id']))[0]),
    );
    for (const event of reuses) {
      expect(event).toMatchObject({
        event_type: 'refresh_token.reuse_detected',
        target_id: familyId,
        details: { family_id: familyId, presented_state: 'used', family_revoked_now: expect.any(Boolean) },
      });
    }
    // The first loser revoked the family; the rest found it revoked.
    expect(
      reuses.filter((e) => (e.details as { family_revoked_now: boolean }).family_revoked_now),
    ).toHaveLength(1);
    // So the winner's new tokens are dead too.
    expect(await isActive(t, root, winners[0].body.access_token)).toBe(false);
    expect((await refreshGrant(t, agent, winners[0].body.refresh_token).expect(400)).body.error).toBe(
      'invalid_grant',
    );
  }, 30_000);
});
