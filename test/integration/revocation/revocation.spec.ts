import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type Redis from 'ioredis';
import type { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Clock, REDIS } from '@agentauth/core';
import { REVOCATION_EXPIRY_GRACE_MS, REVOCATION_KEYS, RevocationService } from '@agentauth/revocation';
import { createTestApp, type TestApp } from '../../support/app';
import { ownerQuery } from '../../support/owner-db';
import { deleteWorkerKeys, rawRedis, recordRedisCommands } from '../../support/raw-redis';
import { redisKeyPrefix } from '../../support/test-env';

const prefix = redisKeyPrefix();
const markerKey = (kind: string, id: string) => prefix + REVOCATION_KEYS.marker(kind as 'jti', id);

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('revocation state (PostgreSQL + Redis)', () => {
  let t: TestApp;
  let revocation: RevocationService;
  let clock: Clock;
  let raw: Redis;

  beforeAll(async () => {
    t = await createTestApp();
    revocation = t.app.get(RevocationService);
    clock = t.app.get(Clock);
    raw = rawRedis();
  });
  afterAll(async () => {
    await t.close();
    await raw.quit();
  });
  afterEach(() => {
    clock.reset();
    jest.restoreAllMocks();
  });

  it('is loaded at start-up: /ready reports revocation_state up', async () => {
    const res = await request(t.http).get('/ready').expect(200);
    expect(res.body.details.revocation_state.status).toBe('up');
    expect(await raw.exists(prefix + REVOCATION_KEYS.loaded)).toBe(1);
  });

  it('a revoked jti is revoked at once, durably, and mirrored with a TTL of its exp + grace', async () => {
    const jti = randomUUID();
    const exp = new Date(clock.nowMs() + 15 * 60_000);
    expect(await revocation.isRevoked([{ kind: 'jti', id: jti }], clock.nowSeconds())).toBe(false);
    await revocation.revoke([{ kind: 'jti', id: jti, expiresAt: exp }]);
    expect(await revocation.isRevoked([{ kind: 'jti', id: jti }], clock.nowSeconds())).toBe(true);
    expect(await revocation.isRevoked([{ kind: 'jti', id: randomUUID() }], clock.nowSeconds())).toBe(false);

    const [row] = await ownerQuery<{ expires_at: Date }>(
      `SELECT * FROM revocations WHERE kind = 'jti' AND subject_id = $1`,
      [jti],
    );
    expect(row.expires_at.getTime()).toBe(exp.getTime());
    const askedAt = Date.now();
    const ttl = await raw.pttl(markerKey('jti', jti));
    const expected = exp.getTime() + REVOCATION_EXPIRY_GRACE_MS - askedAt;
    expect(ttl).toBeGreaterThan(expected - 5000);
    expect(ttl).toBeLessThanOrEqual(expected + 10); // Redis and Node clocks round differently
    // Permanent markers have no TTL.
    const credential = randomUUID();
    await revocation.revoke([{ kind: 'credential', id: credential }]);
    expect(await raw.pttl(markerKey('credential', credential))).toBe(-1);
  });

  it('a second app instance sharing Redis sees a revocation at once, in one Redis round trip', async () => {
    const b = await createTestApp();
    try {
      const revocationB = b.app.get(RevocationService);
      const family = randomUUID();
      const iat = clock.nowSeconds();
      expect(await revocationB.isRevoked([{ kind: 'family', id: family }], iat)).toBe(false);
      await revocation.revoke([{ kind: 'family', id: family }]);
      const query = jest.spyOn(b.app.get<DataSource>(getDataSourceToken()), 'query');
      const command = recordRedisCommands(b.app.get<Redis>(REDIS));
      expect(
        await revocationB.isRevoked(
          [
            { kind: 'jti', id: randomUUID() },
            { kind: 'agent', id: randomUUID() },
            { kind: 'family', id: family },
          ],
          iat,
        ),
      ).toBe(true);
      expect(query).not.toHaveBeenCalled();
      // (ignoring the 5 s probe's EXISTS on the sentinel, which may fire meanwhile)
      const calls = command
        .calls()
        .filter((cmd) => !(cmd.name === 'exists' && String(cmd.args[0]).endsWith(REVOCATION_KEYS.loaded)));
      expect(calls.map((cmd) => cmd.name)).toEqual(['mget']);
    } finally {
      await b.close();
    }
  });

  it('agent markers: tokens issued before a suspension die, tokens after re-activation live, re-suspension moves forward only', async () => {
    const agent = randomUUID();
    const ref = [{ kind: 'agent' as const, id: agent }];
    const beforeSuspension = clock.nowSeconds();
    clock.advance(2000);
    const suspendedAt = clock.now();
    await revocation.revoke([{ kind: 'agent', id: agent }]);
    expect(await revocation.isRevoked(ref, beforeSuspension)).toBe(true);

    // Re-activated (nothing to write); a token issued afterwards lives, the old one stays dead.
    clock.advance(2000);
    const afterReactivation = clock.nowSeconds();
    expect(await revocation.isRevoked(ref, afterReactivation)).toBe(false);
    expect(await revocation.isRevoked(ref, beforeSuspension)).toBe(true);

    // Suspended again: the later instant wins, in PostgreSQL and in Redis.
    clock.advance(2000);
    const resuspendedAt = clock.now();
    // `at` given explicitly: the clock ticks on between reading it here and inside revoke().
    await revocation.revoke([{ kind: 'agent', id: agent, at: resuspendedAt }]);
    expect(await revocation.isRevoked(ref, afterReactivation)).toBe(true);
    // A late write of the older instant never moves it back.
    await revocation.revoke([{ kind: 'agent', id: agent, at: suspendedAt }]);
    const [row] = await ownerQuery<{ revoked_at: Date }>(
      `SELECT revoked_at FROM revocations WHERE kind = 'agent' AND subject_id = $1`,
      [agent],
    );
    expect(row.revoked_at.getTime()).toBe(resuspendedAt.getTime());
    expect(await raw.get(markerKey('agent', agent))).toBe(String(resuspendedAt.getTime()));
    expect(await revocation.isRevoked(ref, afterReactivation)).toBe(true);
  });

  it('inside a transaction: mirrored right after COMMIT, never on ROLLBACK', async () => {
    const dataSource = t.app.get<DataSource>(getDataSourceToken());
    const committed = randomUUID();
    await dataSource.transaction(async (m) => {
      await revocation.revoke([{ kind: 'delegation', id: committed }], m);
      // Not visible in Redis before the commit (another process could not see it in PostgreSQL either).
      expect(await raw.exists(markerKey('delegation', committed))).toBe(0);
    });
    // transaction() resolved: the commit hook has mirrored it.
    expect(await raw.exists(markerKey('delegation', committed))).toBe(1);
    expect(await revocation.isRevoked([{ kind: 'delegation', id: committed }], 0)).toBe(true);

    const rolledBack = randomUUID();
    await expect(
      dataSource.transaction(async (m) => {
        await revocation.revoke([{ kind: 'delegation', id: rolledBack }], m);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await raw.exists(markerKey('delegation', rolledBack))).toBe(0);
    expect(
      await ownerQuery(`SELECT 1 FROM revocations WHERE kind = 'delegation' AND subject_id = $1`, [
        rolledBack,
      ]),
    ).toEqual([]);
    expect(await revocation.isRevoked([{ kind: 'delegation', id: rolledBack }], 0)).toBe(false);
  });

  it('survives a Redis flush: still revoked (PostgreSQL), /ready 503 until rebuilt, then markers are back', async () => {
    const jti = randomUUID();
    const agent = randomUUID();
    const issuedAt = clock.nowSeconds() - 5;
    await revocation.revoke([
      { kind: 'jti', id: jti, expiresAt: new Date(clock.nowMs() + 600_000) },
      { kind: 'agent', id: agent },
    ]);
    const b = await createTestApp();
    try {
      // Another "process" (this test) takes the rebuild lock first, so the window in which the state is
      // missing can be observed; then a simulated FLUSH of this worker's keys (all but that lock).
      const lockKey = prefix + REVOCATION_KEYS.rebuildLock;
      expect(await raw.set(lockKey, 'test', 'PX', 30_000, 'NX')).toBe('OK');
      expect(await deleteWorkerKeys(raw, { except: [lockKey] })).toBeGreaterThan(0);
      expect(await raw.exists(markerKey('jti', jti))).toBe(0);

      const notReady = await request(t.http).get('/ready').expect(503);
      expect(notReady.body.details.revocation_state.status).toBe('down');
      await request(b.http).get('/ready').expect(503);

      // Never a window where a revoked token looks active: both instances answer from PostgreSQL.
      for (const app of [t, b]) {
        const service = app.app.get(RevocationService);
        expect(await service.isRevoked([{ kind: 'jti', id: jti }], issuedAt)).toBe(true);
        expect(await service.isRevoked([{ kind: 'agent', id: agent }], issuedAt)).toBe(true);
        expect(await service.isRevoked([{ kind: 'jti', id: randomUUID() }], issuedAt)).toBe(false);
      }
      expect(await raw.exists(prefix + REVOCATION_KEYS.loaded)).toBe(0);

      // The lock holder goes away: the processes rebuild on their own and become ready again.
      await raw.del(prefix + REVOCATION_KEYS.rebuildLock);
      await eventually(async () => (await request(t.http).get('/ready')).status === 200);
      await eventually(async () => (await request(b.http).get('/ready')).status === 200);
      expect(await raw.get(markerKey('jti', jti))).not.toBeNull();
      expect(await raw.get(markerKey('agent', agent))).not.toBeNull();
      expect(await raw.exists(prefix + REVOCATION_KEYS.loaded)).toBe(1);
      const query = jest.spyOn(t.app.get<DataSource>(getDataSourceToken()), 'query');
      expect(await revocation.isRevoked([{ kind: 'jti', id: jti }], issuedAt)).toBe(true);
      expect(query).not.toHaveBeenCalled(); // answered by the rebuilt mirror
    } finally {
      await raw.del(prefix + REVOCATION_KEYS.rebuildLock);
      await b.close();
    }
  });

  it('purgeExpired deletes only markers past expiry + grace', async () => {
    const expired = randomUUID();
    const inGrace = randomUUID();
    const live = randomUUID();
    const permanent = randomUUID();
    const now = clock.nowMs();
    await revocation.revoke([
      { kind: 'jti', id: expired, expiresAt: new Date(now - REVOCATION_EXPIRY_GRACE_MS - 60_000) },
      { kind: 'jti', id: inGrace, expiresAt: new Date(now - 10_000) },
      { kind: 'jti', id: live, expiresAt: new Date(now + 600_000) },
      { kind: 'agent', id: permanent },
    ]);
    expect(await revocation.purgeExpired()).toBeGreaterThanOrEqual(1);
    const rows = await ownerQuery<{ subject_id: string }>(
      `SELECT subject_id FROM revocations WHERE subject_id = ANY($1)`,
      [[expired, inGrace, live, permanent]],
    );
    expect(rows.map((r) => r.subject_id).sort()).toEqual([inGrace, live, permanent].sort());
    // Markers still within grace keep revoking (a verifier accepts exp + 30 s skew).
    expect(await revocation.isRevoked([{ kind: 'jti', id: inGrace }], 0)).toBe(true);
  });

  it('answers from PostgreSQL when Redis is unreachable', async () => {
    const jti = randomUUID();
    await revocation.revoke([{ kind: 'jti', id: jti, expiresAt: new Date(clock.nowMs() + 600_000) }]);
    const offline = await createTestApp({ REDIS_URL: 'redis://127.0.0.1:1/0' });
    try {
      const service = offline.app.get(RevocationService);
      expect(await service.isRevoked([{ kind: 'jti', id: jti }], clock.nowSeconds())).toBe(true);
      expect(await service.isRevoked([{ kind: 'jti', id: randomUUID() }], clock.nowSeconds())).toBe(false);
      const res = await request(offline.http).get('/ready').expect(503);
      expect(res.body.details.revocation_state.status).toBe('down');
    } finally {
      await offline.close();
    }
  });
});
