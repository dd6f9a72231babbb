import { randomUUID } from 'node:crypto';
import { listeningApp, type TestApp } from '../../support/app';
import { redisKeyPrefix } from '../../support/test-env';
import { aTree, anAgent } from '../../factories/agents';
import { auditEventsAbout } from '../../factories/db';
import { authorizeUrl, Browser, csrfOf, formActionOf, pkce } from './authorize-helpers';

/**
 * CONTRACT §11: failed sign-ins at the authorization pages count against the client IP exactly like failed
 * client authentication (the same limiter, RATE_LIMIT_IP_PER_MINUTE); over the limit the page is a 429 with
 * Retry-After, and no further `authorize.sign_in_failed` rows are written.
 */
describe('authorization sign-in failures count against the client IP', () => {
  let t: TestApp & { base: string };
  beforeAll(async () => {
    t = await listeningApp({
      REDIS_KEY_PREFIX: `${redisKeyPrefix()}${randomUUID()}:`,
      RATE_LIMIT_IP_PER_MINUTE: '3',
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers a 429 error page once the IP has failed RATE_LIMIT_IP_PER_MINUTE times', async () => {
    const root = await aTree(t);
    const client = await anAgent(t, root, {
      client_type: 'public',
      redirect_uris: ['http://127.0.0.1/cb'],
      allowed_scopes: ['agents:read'],
    });
    const browser = new Browser(t.base);
    const page = await browser.get(
      authorizeUrl(t.base, {
        response_type: 'code',
        client_id: client.id,
        redirect_uri: 'http://127.0.0.1/cb',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      }),
    );
    expect(page.status).toBe(200);
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<Browser['post']>> | undefined;
    for (let i = 0; i < 6 && !limited; i++) {
      const res = await browser.post(formActionOf(page.body), {
        csrf_token: csrfOf(page.body),
        agent_id: root.agent.id,
        api_key: `${root.apiKey}x`,
      });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    // The page views (GET, consumed) and the failures (counted by the sign-in) share the IP's budget of 3:
    // a 429 comes before the budget could be spent on failures alone, and every answer before it was a 401.
    expect(limited?.status).toBe(429);
    const failed = statuses.filter((s) => s === 401).length;
    expect(failed).toBeGreaterThanOrEqual(1);
    expect(statuses).toEqual([...Array<number>(failed).fill(401), 429]);
    expect(limited?.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(limited?.headers.get('content-type')).toMatch(/^text\/html/);
    expect(limited?.body).toMatch(/role="alert"/);
    const failures = (await auditEventsAbout([client.id])).filter(
      (e) => e.event_type === 'authorize.sign_in_failed',
    );
    // one row per counted failure, none for the refused (429) attempt
    expect(failures).toHaveLength(failed);
  });
});
