import type { PinoLogger } from 'nestjs-pino';
import type { EntityManager, EntitySubscriberInterface, QueryRunner } from 'typeorm';
import { AfterCommit, Clock, ReadinessRegistry } from '@agentauth/core';
import { RevocationService, RevocationStateUnavailableError } from '@agentauth/revocation';
import {
  mergeMarkers,
  type RevocationRef,
  type StoredMarker,
} from '../../../libs/revocation/src/revocation-marker';
import type { RevocationMirror } from '../../../libs/revocation/src/revocation-mirror';
import type { RevocationRepository } from '../../../libs/revocation/src/revocation.repository';

const keyOf = (m: { kind: string; id: string }) => `${m.kind}:${m.id}`;

/** PostgreSQL stand-in: the merge rules of the real upsert, and a switch to make it fail. */
class FakeRepository {
  rows = new Map<string, StoredMarker>();
  failing = false;
  async upsert(markers: readonly StoredMarker[]): Promise<StoredMarker[]> {
    if (this.failing) throw new Error('database down');
    return markers.map((m) => {
      const prev = this.rows.get(keyOf(m));
      const next = prev ? mergeMarkers(prev, m) : { ...m };
      this.rows.set(keyOf(m), next);
      return next;
    });
  }
  async findMatching(refs: readonly RevocationRef[]): Promise<StoredMarker[]> {
    if (this.failing) throw new Error('database down');
    return refs.map((r) => this.rows.get(keyOf(r))).filter((m): m is StoredMarker => !!m);
  }
  async loadChunk(after: { kind: string; id: string } | null, limit: number): Promise<StoredMarker[]> {
    const all = [...this.rows.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    const start = after ? all.findIndex((m) => keyOf(m) === keyOf(after)) + 1 : 0;
    return all.slice(start, start + limit);
  }
}

/** Redis stand-in: markers, sentinel, epoch and lock, with switches for broken writes / broken link. */
class FakeMirror {
  markers = new Map<string, number>();
  loaded = true;
  epochValue = 0;
  lock: string | null = null;
  connectedFlag = true;
  writeFails = false;
  invalidateFails = false;
  checkFails = false;
  calls: string[] = [];
  get connected() {
    return this.connectedFlag;
  }
  async check(refs: readonly RevocationRef[]) {
    this.calls.push('check');
    if (this.checkFails) throw new Error('connection reset');
    return { loaded: this.loaded, values: refs.map((r) => this.markers.get(keyOf(r)) ?? null) };
  }
  async write(markers: readonly StoredMarker[]) {
    this.calls.push('write');
    if (this.writeFails) throw new Error('write failed');
    for (const m of markers)
      this.markers.set(keyOf(m), Math.max(this.markers.get(keyOf(m)) ?? -1, m.revokedAtMs));
  }
  async invalidate() {
    this.calls.push('invalidate');
    if (this.invalidateFails) throw new Error('connection reset');
    this.loaded = false;
    this.epochValue++;
  }
  async isLoaded() {
    if (!this.connectedFlag) throw new Error('redis is not connected');
    return this.loaded;
  }
  async acquireRebuildLock(token: string) {
    if (this.lock) return false;
    this.lock = token;
    return true;
  }
  async epoch() {
    return String(this.epochValue);
  }
  async finishRebuild(token: string, epoch: string) {
    if (this.lock !== token || String(this.epochValue) !== epoch) return false;
    this.loaded = true;
    return true;
  }
  async releaseRebuildLock(token: string) {
    if (this.lock === token) this.lock = null;
  }
}

const silentLogger = {
  setContext: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
} as unknown as PinoLogger;

function setup() {
  const clock = new Clock();
  const repository = new FakeRepository();
  const mirror = new FakeMirror();
  const dataSource = { subscribers: [] as EntitySubscriberInterface[] };
  const readiness = new ReadinessRegistry();
  const afterCommit = new AfterCommit(dataSource, silentLogger);
  afterCommit.onModuleInit();
  const service = new RevocationService(
    clock,
    repository as unknown as RevocationRepository,
    mirror as unknown as RevocationMirror,
    afterCommit,
    silentLogger,
    readiness,
  );
  service.onModuleInit();
  const hook = dataSource.subscribers[0];
  const readinessCheck = () =>
    readiness
      .all()
      .find((c) => c.name === 'revocation_state')!
      .check();
  /** A query runner inside `dataSource.transaction()`, as TypeORM's postgres driver tracks it. */
  const transaction = () => {
    const queryRunner = { isTransactionActive: true, transactionDepth: 1 } as unknown as QueryRunner & {
      transactionDepth: number;
      isTransactionActive: boolean;
    };
    const manager = { queryRunner } as unknown as EntityManager;
    return {
      manager,
      savepoint: () => void queryRunner.transactionDepth++,
      commit: async () => {
        queryRunner.transactionDepth--;
        if (queryRunner.transactionDepth === 0) queryRunner.isTransactionActive = false;
        await hook.afterTransactionCommit!({ queryRunner } as never);
      },
      rollback: async () => {
        queryRunner.transactionDepth--;
        if (queryRunner.transactionDepth === 0) queryRunner.isTransactionActive = false;
        await hook.afterTransactionRollback!({ queryRunner } as never);
      },
    };
  };
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { clock, repository, mirror, service, readinessCheck, transaction, settle };
}

const jti = (id: string): RevocationRef => ({ kind: 'jti', id });

describe('RevocationService (unit, fake Redis and PostgreSQL)', () => {
  it('answers from the mirror in one call when it is loaded', async () => {
    const { service, mirror } = setup();
    await service.revoke([{ kind: 'jti', id: 'a' }]);
    mirror.calls = [];
    expect(await service.isRevoked([jti('a'), { kind: 'agent', id: 'x' }], 0)).toBe(true);
    expect(await service.isRevoked([jti('b')], 0)).toBe(false);
    expect(mirror.calls).toEqual(['check', 'check']);
  });

  it('a Redis write failure after commit removes the sentinel; checks then answer from PostgreSQL', async () => {
    const { service, mirror, transaction, settle } = setup();
    mirror.writeFails = true;
    const tx = transaction();
    await service.revoke([{ kind: 'jti', id: 'revoked-in-tx' }], tx.manager);
    expect(mirror.calls).toEqual([]); // nothing mirrored before COMMIT
    await tx.commit(); // must not throw: the transaction is committed
    // the write, then the invalidation (then a background rebuild attempt, which fails the same way)
    expect(mirror.calls.slice(0, 2)).toEqual(['write', 'invalidate']);
    expect(mirror.loaded).toBe(false);
    expect(mirror.markers.has('jti:revoked-in-tx')).toBe(false);
    // The mirror lacks the marker, but no check trusts it: PostgreSQL answers.
    expect(await service.isRevoked([jti('revoked-in-tx')], 0)).toBe(true);
    // The rebuild restores it once Redis takes writes again.
    mirror.writeFails = false;
    expect(await service.rebuild()).toBe('rebuilt');
    await settle();
    expect(mirror.loaded).toBe(true);
    expect(mirror.markers.has('jti:revoked-in-tx')).toBe(true);
  });

  it('a standalone revoke whose mirror write fails invalidates the mirror and still resolves', async () => {
    const { service, mirror, readinessCheck } = setup();
    mirror.writeFails = true;
    await service.revoke([{ kind: 'credential', id: 'c1' }]);
    expect(mirror.loaded).toBe(false);
    expect(await readinessCheck()).toMatch(/not loaded/);
    expect(await service.isRevoked([{ kind: 'credential', id: 'c1' }], 0)).toBe(true);
  });

  it('when neither the write nor the invalidation reaches Redis, this process distrusts it until fixed', async () => {
    const { service, mirror, readinessCheck, settle } = setup();
    mirror.writeFails = true;
    mirror.invalidateFails = true;
    await expect(service.revoke([{ kind: 'jti', id: 'lost' }])).rejects.toBeInstanceOf(
      RevocationStateUnavailableError,
    );
    // Durable anyway.
    expect(await service.isRevoked([jti('lost')], 0)).toBe(true);
    // The (stale) sentinel is still there, yet this process does not read the mirror.
    expect(mirror.loaded).toBe(true);
    expect(mirror.calls).not.toContain('check');
    expect(await readinessCheck()).toMatch(/could not be mirrored/);
    expect(await service.isLoaded()).toBe(false);
    // The probe retries the invalidation, then the rebuild restores the marker.
    mirror.writeFails = false;
    mirror.invalidateFails = false;
    await service['probe']();
    await settle();
    await service.rebuild();
    expect(mirror.markers.has('jti:lost')).toBe(true);
    expect(await readinessCheck()).toBe(true);
    mirror.calls = [];
    expect(await service.isRevoked([jti('lost')], 0)).toBe(true);
    expect(mirror.calls).toEqual(['check']);
  });

  it('rolled-back markers are never mirrored; a savepoint rollback drops only its own', async () => {
    const { service, mirror, transaction } = setup();
    const tx = transaction();
    await service.revoke([{ kind: 'jti', id: 'outer' }], tx.manager);
    tx.savepoint();
    await service.revoke([{ kind: 'jti', id: 'inner' }], tx.manager);
    await tx.rollback(); // back to the savepoint
    await tx.commit();
    expect([...mirror.markers.keys()]).toEqual(['jti:outer']);

    const tx2 = transaction();
    await service.revoke([{ kind: 'jti', id: 'never' }], tx2.manager);
    await tx2.rollback();
    expect(mirror.markers.has('jti:never')).toBe(false);
  });

  it('a missing sentinel sends checks to PostgreSQL and starts a rebuild', async () => {
    const { service, mirror, repository, settle } = setup();
    await service.revoke([{ kind: 'family', id: 'f1' }]);
    mirror.markers.clear();
    mirror.loaded = false; // Redis flushed
    expect(await service.isRevoked([{ kind: 'family', id: 'f1' }], 0)).toBe(true);
    await settle();
    await settle();
    expect(mirror.loaded).toBe(true);
    expect(mirror.markers.has('family:f1')).toBe(true);
    // From now on the mirror answers even if PostgreSQL is down.
    repository.failing = true;
    expect(await service.isRevoked([{ kind: 'family', id: 'f1' }], 0)).toBe(true);
  });

  it('a rebuild invalidated while it copies does not set the sentinel', async () => {
    const { service, mirror, repository } = setup();
    await service.revoke([{ kind: 'jti', id: 'a' }]);
    mirror.loaded = false;
    const load = repository.loadChunk.bind(repository);
    jest.spyOn(repository, 'loadChunk').mockImplementationOnce(async (after, limit) => {
      const chunk = await load(after, limit);
      mirror.epochValue++; // another process failed a write meanwhile
      return chunk;
    });
    expect(await service.rebuild()).toBe('superseded');
    expect(mirror.loaded).toBe(false);
    expect(await service.rebuild()).toBe('rebuilt');
    expect(mirror.loaded).toBe(true);
  });

  it('a rebuild while another process holds the lock is "busy"', async () => {
    const { service, mirror } = setup();
    mirror.loaded = false;
    mirror.lock = 'someone-else';
    expect(await service.rebuild()).toBe('busy');
    expect(mirror.loaded).toBe(false);
  });

  it('answers from PostgreSQL when Redis is unreachable or a check fails', async () => {
    const { service, mirror } = setup();
    await service.revoke([{ kind: 'delegation', id: 'd1' }]);
    mirror.markers.clear(); // prove the answer does not come from the mirror
    mirror.connectedFlag = false;
    expect(await service.isRevoked([{ kind: 'delegation', id: 'd1' }], 0)).toBe(true);
    expect(mirror.calls).not.toContain('check');
    mirror.connectedFlag = true;
    mirror.checkFails = true;
    expect(await service.isRevoked([{ kind: 'delegation', id: 'd1' }], 0)).toBe(true);
    expect(await service.isRevoked([{ kind: 'delegation', id: 'other' }], 0)).toBe(false);
  });

  it('fails closed when neither Redis nor PostgreSQL answers', async () => {
    const { service, mirror, repository } = setup();
    mirror.connectedFlag = false;
    repository.failing = true;
    await expect(service.isRevoked([jti('x')], 0)).rejects.toBeInstanceOf(RevocationStateUnavailableError);
    mirror.connectedFlag = true;
    mirror.loaded = false;
    await expect(service.isRevoked([jti('x')], 0)).rejects.toBeInstanceOf(RevocationStateUnavailableError);
  });

  it('applies the iat rule to agent markers only', async () => {
    const { service, clock } = setup();
    const issuedBefore = clock.nowSeconds();
    clock.advance(2000);
    await service.revoke([
      { kind: 'agent', id: 'ag' },
      { kind: 'credential', id: 'cr' },
    ]);
    clock.advance(2000);
    const issuedAfter = clock.nowSeconds();
    expect(await service.isRevoked([{ kind: 'agent', id: 'ag' }], issuedBefore)).toBe(true);
    expect(await service.isRevoked([{ kind: 'agent', id: 'ag' }], issuedAfter)).toBe(false);
    expect(await service.isRevoked([{ kind: 'credential', id: 'cr' }], issuedAfter)).toBe(true);
  });

  it('rejects malformed refs instead of answering "not revoked"', async () => {
    const { service } = setup();
    await expect(service.isRevoked([{ kind: 'nope' as 'jti', id: 'x' }], 0)).rejects.toThrow(TypeError);
    await expect(service.isRevoked([{ kind: 'jti', id: '' }], 0)).rejects.toThrow(TypeError);
  });
});
