import { managementResourceIdentifier } from '@agentauth/core';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import request from 'supertest';
import type { Job } from 'bullmq';
import { JobsProducer, KEY_ROTATION_JOBS, QUEUES } from '@agentauth/jobs';
import { KEY_PROPAGATION_SECONDS, SigningKeysService } from '@agentauth/keys';
import { createTestApp, type TestApp } from '../../support/app';
import { eventually } from '../../support/webhook-receiver';
import {
  finishedJob,
  isolatedRedisPrefix,
  killAllWorkers,
  startWorker,
  type WorkerProcess,
} from '../../support/worker-process';
import { aToken, API, aTree, type Caller } from '../../factories/agents';
import { guardStatus, introspect } from '../auth/auth-helpers';
import { resetSigningKeys } from '../keys/keys-helpers';

// Worker start (and its one-off build) plus the real publish-before-sign wait (max-age 1 s + 30 s margin).
jest.setTimeout(90_000);

const JWKS_MAX_AGE_SECONDS = 1;

/**
 * Issue 10 "Done when": the real worker process runs the key-rotation jobs. `rotate` publishes a new key
 * (served in JWKS, not signing); once its `activates_at` has passed (JWKS max-age + propagation margin,
 * real time: the worker is its own process), `advance` activates it; the API signs with it from then on
 * and tokens signed before the rotation still verify.
 */
describe('worker key rotation', () => {
  const env = {
    REDIS_KEY_PREFIX: isolatedRedisPrefix('wk-keys'),
    JWKS_MAX_AGE_SECONDS: String(JWKS_MAX_AGE_SECONDS),
  };
  let t: TestApp;
  let worker: WorkerProcess;
  let root: Caller;

  beforeAll(async () => {
    // A clean key set: no published key left by an earlier file (rotate() would return it instead).
    await resetSigningKeys();
    t = await createTestApp(env);
    // The API process also advances due keys on its periodic refresh tick; held off here so that the
    // activation observed below is the worker's `advance` job.
    jest
      .spyOn(t.app.get(SigningKeysService), 'advance')
      .mockResolvedValue({ activated: null, retiring: [], retired: [] });
    root = await aTree(t);
    worker = await startWorker(env);
  });
  afterAll(async () => {
    await killAllWorkers();
    jest.restoreAllMocks();
    await t?.close();
    await resetSigningKeys();
  });
  afterEach(() => {
    expect(worker.nonJson).toEqual([]);
    expect(worker.stderr).toEqual([]);
  });

  const producer = () => t.app.get(JobsProducer);
  const kidOf = (jwt: string) => decodeProtectedHeader(jwt).kid;
  const jwks = async () => (await request(t.http).get(`${API}/auth/jwks`).expect(200)).body;
  const jwksKids = async () => (await jwks()).keys.map((k: { kid: string }) => k.kid) as string[];

  async function finished(jobId: string): Promise<Job> {
    return finishedJob(producer().queue(QUEUES.keyRotation), jobId);
  }

  const advanceNow = () => producer().add(QUEUES.keyRotation, KEY_ROTATION_JOBS.advance, {});

  async function verifiesWithJwks(jwt: string): Promise<string | undefined> {
    const { protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(await jwks()), {
      issuer: t.config.publicBaseUrl,
      audience: managementResourceIdentifier(t.config),
      typ: 'at+jwt',
      algorithms: ['RS256'],
    });
    return protectedHeader.kid;
  }

  it('publishes, then activates a new key; tokens signed before still verify', async () => {
    const oldToken = await aToken(t, root);
    const oldKid = kidOf(oldToken)!;
    expect(await jwksKids()).toEqual([oldKid]);

    // rotate: the worker publishes a new key…
    const rotateJobId = await producer().rotateSigningKeysNow();
    const rotated = (await finished(rotateJobId)).returnvalue as {
      kid: string;
      state: string;
      activatesAt: string;
    };
    expect(rotated).toMatchObject({ kid: expect.any(String), state: 'published' });
    const newKid = rotated.kid;
    expect(newKid).not.toBe(oldKid);
    expect(worker.lines).toContainEqual(
      expect.objectContaining({ msg: 'signing key published', kid: newKid }),
    );
    const activatesAtMs = Date.parse(rotated.activatesAt);
    const delayMs = activatesAtMs - Date.now();
    expect(delayMs).toBeGreaterThan(0);
    expect(delayMs).toBeLessThanOrEqual((JWKS_MAX_AGE_SECONDS + KEY_PROPAGATION_SECONDS) * 1000);

    // …which the API serves in JWKS at once (pub/sub), but does not sign with.
    await eventually(async () => (await jwksKids()).includes(newKid), 5000);
    expect(await jwksKids()).toEqual([oldKid, newKid]);
    expect(kidOf(await aToken(t, root))).toBe(oldKid);

    // advance before activates_at changes nothing.
    expect((await finished(await advanceNow())).returnvalue).toEqual({
      activated: null,
      retiring: [],
      retired: [],
    });
    expect(kidOf(await aToken(t, root))).toBe(oldKid);

    // Once due (real time), the worker's advance activates the new key and retires the old one.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, activatesAtMs - Date.now()) + 250));
    expect((await finished(await advanceNow())).returnvalue).toEqual({
      activated: newKid,
      retiring: [oldKid],
      retired: [],
    });
    expect(worker.lines).toContainEqual(
      expect.objectContaining({ msg: 'signing keys advanced', activated: newKid }),
    );

    // The API process follows (key-change message): new tokens carry the new kid.
    const newToken = await eventually(async () => {
      const token = await aToken(t, root);
      return kidOf(token) === newKid ? token : undefined;
    }, 5000);
    expect(await jwksKids()).toEqual([newKid, oldKid]);

    // The old token still verifies: introspection, the Bearer guard, and a JWKS client (jose).
    const introspection = await introspect(t, root, oldToken).expect(200);
    expect(introspection.body).toMatchObject({ active: true });
    expect(await guardStatus(t, oldToken)).toBe(200);
    expect(await verifiesWithJwks(oldToken)).toBe(oldKid);
    expect(await verifiesWithJwks(newToken)).toBe(newKid);
    expect((await introspect(t, root, newToken).expect(200)).body).toMatchObject({ active: true });
  });
});
