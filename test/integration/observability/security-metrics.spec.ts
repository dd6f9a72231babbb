import request from 'supertest';
import { METRIC } from '@agentauth/observability';
import { Clock } from '@agentauth/core';
import { aTree, API, requestToken } from '../../factories/agents';
import { createTestApp, type TestApp } from '../../support/app';
import { logCapture } from '../../support/log-capture';
import { movedBetween, scrapeMetrics } from './prometheus-text';

/** Low enough to reach with a few calls; each test's fresh agent has its own per-agent window. */
const AGENT_LIMIT = 3;

/**
 * The security counters move with real traffic through the real modules: the token endpoint and client
 * authentication (via the audit trail, AuditMetricsBridge) and the rate-limit guard (RateLimitMetricsBridge).
 */
describe('security counters on /metrics after real traffic', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ METRICS_TOKEN: undefined, RATE_LIMIT_AGENT_PER_MINUTE: String(AGENT_LIMIT) });
  });
  afterAll(async () => {
    t.app.get(Clock).reset();
    await t.close();
  });

  it('counts issued tokens, failed client authentications, 429s and audit batches exactly', async () => {
    const caller = await aTree(t);
    const before = await scrapeMetrics(t);
    const firstLine = logCapture.lines.length;

    await requestToken(t, caller).expect(200);
    await requestToken(t, caller, { scope: 'agents:read' }).expect(200);
    const refused = await requestToken(t, { agent: caller.agent, apiKey: `${caller.apiKey}x` }).expect(401);
    expect(refused.body.error).toBe('invalid_client');
    // The token requests counted against the agent (issue 17): the management calls below get a window of
    // their own.
    t.app.get(Clock).advance(60_001);
    for (let i = 0; i < AGENT_LIMIT; i++) {
      await request(t.http).get(`${API}/agents`).query({ limit: 1 }).set(caller.auth).expect(200);
    }
    for (let i = 0; i < 2; i++) {
      const limited = await request(t.http).get(`${API}/agents`).set(caller.auth).expect(429);
      expect(limited.body.type).toBe('urn:agentauth:problem:rate_limited');
    }

    const moved = movedBetween(before, await scrapeMetrics(t));
    expect(moved(METRIC.tokensIssued, { grant_type: 'client_credentials' })).toBe(2);
    expect(moved(METRIC.authFailures, { reason: 'invalid_client' })).toBe(1);
    expect(moved(METRIC.rateLimitRejections, { kind: 'agent' })).toBe(2);
    // Every audit event this traffic committed (two token.issued, one client_auth.failed, one
    // rate_limit.exceeded for the window's first refusal) went through a counted group commit.
    const auditEvents = logCapture.lines.slice(firstLine).filter((l) => l.msg === 'audit event');
    expect(auditEvents.map((l) => l.event_type).sort()).toEqual([
      'client_auth.failed',
      'rate_limit.exceeded',
      'token.issued',
      'token.issued',
    ]);
    expect(moved(`${METRIC.auditBatchSize}_sum`)).toBe(auditEvents.length);
  });
});
