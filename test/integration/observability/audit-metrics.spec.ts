import request from 'supertest';
import { AuditService } from '@agentauth/audit';
import { createTestApp, type TestApp } from '../../support/app';

/** Security counters follow the audit trail: recording the event is enough for the metric to move. */
describe('metrics derived from audit events', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  function sample(body: string, metric: string, labels: string): number {
    const line = body
      .split('\n')
      .find((l) => (l.startsWith(`${metric}{`) || l.startsWith(`${metric} `)) && l.includes(labels));
    return line ? Number(line.split(' ').pop()) : 0;
  }

  it('counts tokens issued by grant type, authentication failures and audit batches', async () => {
    const before = (await request(t.http).get('/metrics').expect(200)).text;
    const audit = t.app.get(AuditService);
    await audit.record({
      eventType: 'token.issued',
      outcome: 'success',
      details: { grant_type: 'client_credentials' },
    });
    await audit.record({
      eventType: 'client_auth.failed',
      outcome: 'failure',
      details: { reason: 'invalid_client' },
    });
    await audit.record({
      eventType: 'client_auth.failed',
      outcome: 'failure',
      details: { reason: 'invalid_client' },
    });
    const after = (await request(t.http).get('/metrics').expect(200)).text;
    const issued = 'agentauth_tokens_issued_total';
    expect(
      sample(after, issued, 'grant_type="client_credentials"') -
        sample(before, issued, 'grant_type="client_credentials"'),
    ).toBe(1);
    const failures = 'agentauth_auth_failures_total';
    expect(
      sample(after, failures, 'reason="invalid_client"') -
        sample(before, failures, 'reason="invalid_client"'),
    ).toBe(2);
    expect(
      sample(after, 'agentauth_audit_batch_size_count', '') -
        sample(before, 'agentauth_audit_batch_size_count', ''),
    ).toBeGreaterThanOrEqual(1);
  });
});
