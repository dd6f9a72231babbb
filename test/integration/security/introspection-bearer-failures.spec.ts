import request from 'supertest';
import type { TestApp } from '../../support/app';
import { API } from '../../factories/agents';
import { eventsOfRequests, ipLimitedApp } from './security-helpers';

const IP_LIMIT = 4;
const ATTEMPTS = 9;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** An RS256-looking JWT with a signature nobody made. */
const forged = (i: number) =>
  `${b64({ alg: 'RS256', typ: 'at+jwt', kid: 'forged' })}.${b64({ sub: `x${i}`, scope: 'tokens:introspect' })}.${Buffer.from('not-a-signature').toString('base64url')}`;

/**
 * Finding 6 of issue 17: a Bearer authentication failing at introspection is counted and audited exactly
 * as the global Bearer guard treats a forged token (`client_auth.failed`, reason `invalid_token`; the IP's
 * bucket; 429 and no further rows once over). The attack: forged-signature Bearer calls used to get 401
 * each, no 429, and no `client_auth.failed` event.
 */
describe('forged Bearer tokens at introspection (issue 17, finding 6)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await ipLimitedApp(IP_LIMIT);
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts and audits each like the global guard; 429 once the IP is over its limit', async () => {
    const responses: request.Response[] = [];
    for (let i = 0; i < ATTEMPTS; i++) {
      responses.push(
        await request(t.http)
          .post(`${API}/auth/token/introspect`)
          .set('Authorization', `Bearer ${forged(i)}`)
          .type('form')
          .send({ token: forged(i + 100) }),
      );
    }
    expect(responses.map((r) => r.status)).toEqual([
      ...Array<number>(IP_LIMIT).fill(401),
      ...Array<number>(ATTEMPTS - IP_LIMIT).fill(429),
    ]);
    expect(responses[0].body.error).toBe('invalid_token');
    expect(responses.slice(0, IP_LIMIT).map((r) => r.headers['ratelimit-remaining'])).toEqual(
      Array.from({ length: IP_LIMIT }, (_, i) => String(IP_LIMIT - 1 - i)),
    );
    expect(responses[IP_LIMIT].body.error).toBe('rate_limited');

    const events = await eventsOfRequests(responses.map((r) => r.headers['x-request-id']));
    const failures = events.filter((e) => e.event_type === 'client_auth.failed');
    expect(failures).toHaveLength(IP_LIMIT);
    for (const event of failures) {
      expect(event).toMatchObject({
        outcome: 'failure',
        actor_agent_id: null,
        target_id: null,
        ip: '127.0.0.1',
        details: expect.objectContaining({
          reason: 'invalid_token',
          route: 'POST /api/v1/auth/token/introspect',
          endpoint: 'introspect',
        }),
      });
      expect(JSON.stringify(event)).not.toContain('not-a-signature');
    }
    expect(events.filter((e) => e.event_type === 'rate_limit.exceeded')).toHaveLength(1);
    expect(events).toHaveLength(IP_LIMIT + 1);
  });
});
