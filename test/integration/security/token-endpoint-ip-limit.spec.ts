import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { TestApp } from '../../support/app';
import { API } from '../../factories/agents';
import { withDb } from '../../factories/db';
import { eventsOfRequests, ipLimitedApp } from './security-helpers';

const IP_LIMIT = 5;
const ATTEMPTS = 13;

/**
 * Finding 1 of issue 17 (CONTRACT §7): every request refused before client authentication counts against
 * the IP; over the limit → 429 and no further rows (one `rate_limit.exceeded` per window); an
 * unauthenticated failure is never attributed to the `client_id` the caller typed. The attack: many
 * `grant_type=urn:bogus:<i>&client_id=<victim>` requests without credentials — each used to be a 400 and a
 * permanent `token.issue_failed` row filed under the victim, with the IP's bucket untouched.
 */
describe('refusals before client authentication at the token endpoint (issue 17, finding 1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await ipLimitedApp(IP_LIMIT);
  });
  afterAll(async () => {
    await t.close();
  });

  it('counts them against the IP: 429 once over, no row after the limit, none filed under the victim', async () => {
    const victim = randomUUID();
    const responses: request.Response[] = [];
    for (let i = 0; i < ATTEMPTS; i++) {
      responses.push(
        await request(t.http)
          .post(`${API}/auth/token`)
          .type('form')
          .send({ grant_type: `urn:bogus:${i}`, client_id: victim }),
      );
    }
    expect(responses.map((r) => r.status)).toEqual([
      ...Array<number>(IP_LIMIT).fill(400),
      ...Array<number>(ATTEMPTS - IP_LIMIT).fill(429),
    ]);
    expect(responses[0].body.error).toBe('unsupported_grant_type');
    const limited = responses[IP_LIMIT];
    expect(limited.body.error).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.headers['ratelimit-remaining']).toBe('0');

    const events = await eventsOfRequests(responses.map((r) => r.headers['x-request-id']));
    const refusals = events.filter((e) => e.event_type === 'token.issue_failed');
    // One row per refusal under the limit, then exactly one rate_limit.exceeded for the window.
    expect(refusals).toHaveLength(IP_LIMIT);
    expect(events.filter((e) => e.event_type === 'rate_limit.exceeded')).toEqual([
      expect.objectContaining({ request_id: limited.headers['x-request-id'], actor_agent_id: null }),
    ]);
    expect(events).toHaveLength(IP_LIMIT + 1);
    for (const event of refusals) {
      expect(event).toMatchObject({
        outcome: 'failure',
        actor_agent_id: null,
        root_agent_id: null,
        target_type: 'token',
        target_id: null,
        details: expect.objectContaining({
          claimed_client_id: victim,
          cause: 'before_client_authentication',
        }),
      });
    }
    const filedUnderVictim = await withDb(async (db) => {
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM audit_events
          WHERE target_id = $1 OR actor_agent_id::text = $1 OR on_behalf_of::text = $1`,
        [victim],
      );
      return rows[0].n as number;
    });
    expect(filedUnderVictim).toBe(0);
  });
});
