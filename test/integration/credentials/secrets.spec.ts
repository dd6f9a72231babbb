import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { logCapture } from '../../support/log-capture';
import { API, bearer } from '../../factories/agents';
import { columnsContaining } from '../../factories/db';

/**
 * A raw key exists in exactly one response (the one that issued it), in no log line and in no database
 * column — neither whole nor its secret part alone.
 */
describe('raw API keys never leak', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('appear once, in the issuing response only', async () => {
    const responses: string[] = [];
    const record = async (req: request.Test) => {
      const res = await req;
      responses.push(`${JSON.stringify(res.headers)}\n${res.text}`);
      return res;
    };

    const boot = await record(request(t.http).post(`${API}/agents/bootstrap`).send({ name: 'leak-check' }));
    expect(boot.status).toBe(201);
    const rootKey: string = boot.body.credential.api_key;
    const child = await record(
      request(t.http)
        .post(`${API}/agents`)
        .set(bearer(rootKey))
        .send({ name: 'child', allowed_scopes: ['agents:read'] }),
    );
    const issued = await record(
      request(t.http).post(`${API}/credentials`).set(bearer(rootKey)).send({ agent_id: child.body.id }),
    );
    const childKey: string = issued.body.api_key;
    const rotated = await record(
      request(t.http)
        .post(`${API}/credentials/${issued.body.id}/rotate`)
        .set(bearer(rootKey))
        .send({ grace_period_seconds: 30 }),
    );
    const rotatedKey: string = rotated.body.api_key;
    for (const key of [rootKey, childKey, rotatedKey]) {
      expect((await record(request(t.http).get(`${API}/agents`).set(bearer(key)))).status).toBe(200);
    }
    await record(request(t.http).get(`${API}/credentials`).set(bearer(rootKey)));
    await record(request(t.http).get(`${API}/agents/${child.body.id}`).set(bearer(rootKey)));
    await record(request(t.http).delete(`${API}/credentials/${rotated.body.id}`).set(bearer(rootKey)));
    // failed authentications with the revoked key and a tampered one
    await record(request(t.http).get(`${API}/agents`).set(bearer(rotatedKey)));
    await record(
      request(t.http)
        .get(`${API}/agents`)
        .set(bearer(`${rootKey.slice(0, -2)}xx`)),
    );

    for (const key of [rootKey, childKey, rotatedKey]) {
      const secret = key.split('_').slice(2).join('_');
      expect(secret).toHaveLength(43);
      expect(responses.filter((r) => r.includes(key))).toHaveLength(1);
      expect(responses.filter((r) => r.includes(secret))).toHaveLength(1);
      expect(logCapture.containing(key)).toEqual([]);
      expect(logCapture.containing(secret)).toEqual([]);
      expect(await columnsContaining(secret)).toEqual([]);
    }
    // the scan does find what is stored (it is not vacuous)
    expect(await columnsContaining(boot.body.credential.prefix)).toEqual(['credentials.prefix']);
  });
});
