import { isLowerCaseUuid, isUuid, UuidParamPipe } from '@agentauth/core';
import { parseAccessTokenClaims } from '../../../libs/auth/src/tokens/access-token-claims';
import { prepareAuditEvent } from '../../../libs/audit/src/audit-sanitizer';
import { parsePolicySubject } from '../../../libs/policies/src/evaluation/policy-subject';

const lower = '0f8fad5b-d9cb-469f-a165-70867728950e';
const upper = lower.toUpperCase();

describe('the one UUID rule (libs/core/src/validation/uuid.ts)', () => {
  it.each([
    lower,
    upper,
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-7fff-bfff-ffffffffffff', // a v7 id: any version is accepted
  ])('accepts %s', (value) => {
    expect(isUuid(value)).toBe(true);
  });

  it.each([
    '',
    lower.slice(1),
    `${lower}0`,
    `{${lower}}`,
    lower.replace(/-/g, ''),
    lower.replace('0f8f', '0g8f'),
    ` ${lower}`,
    `${lower}\n`,
    123,
    null,
    undefined,
  ])('refuses %p', (value) => {
    expect(isUuid(value)).toBe(false);
  });

  it('isLowerCaseUuid is the same rule plus the case this server writes ids in', () => {
    expect(isLowerCaseUuid(lower)).toBe(true);
    expect(isLowerCaseUuid(upper)).toBe(false);
    expect(isLowerCaseUuid('0F8fad5b-d9cb-469f-a165-70867728950e')).toBe(false);
    expect(isLowerCaseUuid('not-a-uuid')).toBe(false);
  });

  it('is the rule the path pipe, policy subjects and the audit sanitizer apply (case-insensitive, lower-cased)', () => {
    expect(new UuidParamPipe().transform(upper)).toBe(lower);
    expect(() => new UuidParamPipe().transform(`${lower}0`)).toThrow();
    expect(parsePolicySubject(upper)).toEqual({ kind: 'agent', agentId: lower });
    expect(parsePolicySubject(`agent:${upper}/*`)).toEqual({ kind: 'subtree', agentId: lower });
    expect(parsePolicySubject(`agent:${lower}0/*`)).toBeNull();
    const event = prepareAuditEvent(
      { eventType: 'agent.created', outcome: 'success', actorAgentId: upper, rootAgentId: `${lower}0` },
      lower,
      new Date(0),
    );
    expect(event.actorAgentId).toBe(lower);
    expect(event.rootAgentId).toBeNull();
    expect(event.details).toMatchObject({ invalid_root_agent_id: `${lower}0` });
  });

  it('token claims keep their stricter meaning: a mixed-case id in a signed token is malformed', () => {
    const claims = {
      iss: 'x',
      sub: lower,
      client_id: lower,
      scope: 'files:read',
      aud: 'x',
      iat: 100,
      exp: 200,
      jti: 'j',
      auth_time: 99,
      agent: { trust_level: 'root', root_agent_id: lower, version: null, capabilities: [] },
    };
    expect(parseAccessTokenClaims(claims as never).sub).toBe(lower);
    expect(() => parseAccessTokenClaims({ ...claims, sub: upper } as never)).toThrow(/malformed claim: sub/);
  });
});
