import request from 'supertest';
import { createTestApp, type TestApp } from '../../support/app';
import { logCapture } from '../../support/log-capture';
import { API, basicAuth, bearer } from '../../factories/agents';
import { storedRedisStrings } from '../../support/raw-redis';
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

    const token = async (clientId: string, key: string) =>
      record(
        request(t.http)
          .post(`${API}/auth/token`)
          .set(basicAuth(clientId, key))
          .type('form')
          .send({ grant_type: 'client_credentials' }),
      );

    const boot = await record(request(t.http).post(`${API}/agents/bootstrap`).send({ name: 'leak-check' }));
    expect(boot.status).toBe(201);
    const rootId: string = boot.body.agent.id;
    const rootKey: string = boot.body.credential.api_key;
    const rootAuth = bearer((await token(rootId, rootKey)).body.access_token);
    const child = await record(
      request(t.http)
        .post(`${API}/agents`)
        .set(rootAuth)
        .send({ name: 'child', allowed_scopes: ['agents:read'] }),
    );
    const issued = await record(
      request(t.http).post(`${API}/credentials`).set(rootAuth).send({ agent_id: child.body.id }),
    );
    const childKey: string = issued.body.api_key;
    const rotated = await record(
      request(t.http)
        .post(`${API}/credentials/${issued.body.id}/rotate`)
        .set(rootAuth)
        .send({ grace_period_seconds: 30 }),
    );
    const rotatedKey: string = rotated.body.api_key;
    const accessTokens: string[] = [];
    for (const [id, key] of [
      [rootId, rootKey],
      [child.body.id as string, childKey],
      [child.body.id as string, rotatedKey],
    ]) {
      const minted = await token(id, key);
      expect(minted.status).toBe(200);
      accessTokens.push(minted.body.access_token);
      const used = await record(request(t.http).get(`${API}/agents`).set(bearer(minted.body.access_token)));
      expect(used.status).toBe(200);
    }
    await record(request(t.http).get(`${API}/credentials`).set(rootAuth));
    await record(request(t.http).get(`${API}/agents/${child.body.id}`).set(rootAuth));
    await record(request(t.http).delete(`${API}/credentials/${rotated.body.id}`).set(rootAuth));
    // failed authentications with the revoked key, a tampered one, and keys presented as Bearer
    expect((await token(child.body.id, rotatedKey)).status).toBe(401);
    expect((await token(rootId, `${rootKey.slice(0, -2)}xx`)).status).toBe(401);
    await record(request(t.http).get(`${API}/agents`).set(bearer(rotatedKey)));
    await record(request(t.http).get(`${API}/agents`).set(bearer(rootKey)));

    // Redis (the verified-key cache) holds neither the keys nor their secrets.
    const stored = await storedRedisStrings();
    expect(stored.some((entry) => entry.includes(':vk:'))).toBe(true);
    for (const key of [rootKey, childKey, rotatedKey]) {
      expect(stored.filter((entry) => entry.includes(key.split('_').slice(2).join('_')))).toEqual([]);
    }
    // no access token in any log line
    for (const jwt of accessTokens) expect(logCapture.containing(jwt.split('.')[2])).toEqual([]);

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
