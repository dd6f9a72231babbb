import { randomUUID } from 'node:crypto';
import {
  actDepth,
  MalformedClaimsError,
  MAX_ACT_DEPTH,
  parseAccessTokenClaims,
  principalOf,
  revocationRefsOf,
  actSubjects,
} from '@agentauth/auth';
import type { VerifiedClaims } from '@agentauth/keys';

const id = () => randomUUID();

function claims(over: Record<string, unknown> = {}): VerifiedClaims {
  const agent = id();
  return {
    iss: 'http://localhost:8000',
    sub: agent,
    aud: 'agentauth',
    iat: 1_700_000_000,
    nbf: 1_700_000_000,
    exp: 1_700_000_900,
    jti: id(),
    client_id: agent,
    scope: 'agents:read agents:write',
    agent: { trust_level: 'root', root_agent_id: agent, version: null, capabilities: [] },
    auth_time: 1_699_999_990.123,
    cid: id(),
    ...over,
  };
}

describe('access token claims', () => {
  it('accepts the claims the server writes', () => {
    const c = claims();
    expect(parseAccessTokenClaims(c)).toBe(c);
  });

  it.each([
    ['sub', { sub: 'not-a-uuid' }],
    ['client_id', { client_id: undefined }],
    ['scope', { scope: 42 }],
    ['scope', { scope: 'Bad:Scope' }],
    ['aud', { aud: 7 }],
    ['agent', { agent: { trust_level: 'admin', root_agent_id: id(), capabilities: [] } }],
    ['agent', { agent: undefined }],
    ['auth_time', { auth_time: undefined }],
    ['auth_time', { auth_time: 1_700_000_001 }],
    ['cid', { cid: 'x' }],
    ['fam', { fam: 'x' }],
    ['delegation_id', { delegation_id: 'x' }],
    ['act', { act: { client_id: id() } }],
    ['subject_refs', { subject_refs: ['jti'] }],
    ['subject_refs', { subject_refs: ['nope:x'] }],
    ['subject_refs', { subject_refs: 'jti:x' }],
  ])('refuses a malformed %s', (claim, over) => {
    expect(() => parseAccessTokenClaims(claims(over))).toThrow(new MalformedClaimsError(claim));
  });

  it('bounds act nesting', () => {
    let act: Record<string, unknown> | undefined;
    for (let i = 0; i < MAX_ACT_DEPTH; i++) act = { sub: id(), ...(act ? { act } : {}) };
    expect(actDepth(act as never)).toBe(MAX_ACT_DEPTH);
    expect(() => parseAccessTokenClaims(claims({ act }))).not.toThrow();
    expect(() => parseAccessTokenClaims(claims({ act: { sub: id(), act } }))).toThrow(MalformedClaimsError);
    expect(actDepth(undefined)).toBe(0);
  });

  it('lists every reference a token dies with, de-duplicated', () => {
    const subjectJti = id();
    const c = parseAccessTokenClaims(
      claims({
        fam: id(),
        delegation_id: id(),
        subject_refs: [`jti:${subjectJti}`, `credential:${id()}`],
      }),
    );
    const refs = revocationRefsOf(c);
    expect(refs).toEqual([
      { kind: 'jti', id: c.jti },
      { kind: 'agent', id: c.client_id },
      { kind: 'credential', id: c.cid },
      { kind: 'family', id: c.fam },
      { kind: 'delegation', id: c.delegation_id },
      { kind: 'jti', id: subjectJti },
      { kind: 'credential', id: expect.any(String) },
    ]);
    const actor = id();
    const exchanged = parseAccessTokenClaims(claims({ client_id: actor, cid: undefined }));
    expect(revocationRefsOf(exchanged).filter((r) => r.kind === 'agent')).toEqual([
      { kind: 'agent', id: actor },
      { kind: 'agent', id: exchanged.sub },
    ]);
  });

  it('a delegated token also dies with every actor of its act chain (agent markers for each act.sub)', () => {
    const [current, middle, first] = [id(), id(), id()];
    const c = parseAccessTokenClaims(
      claims({ client_id: current, act: { sub: current, act: { sub: middle, act: { sub: first } } } }),
    );
    expect(actSubjects(c.act)).toEqual([current, middle, first]);
    expect(actSubjects(undefined)).toEqual([]);
    expect(revocationRefsOf(c).filter((r) => r.kind === 'agent')).toEqual([
      { kind: 'agent', id: current },
      { kind: 'agent', id: c.sub },
      { kind: 'agent', id: middle },
      { kind: 'agent', id: first },
    ]);
  });

  it('maps to the principal: client_id acts, sub is the authority', () => {
    const actor = id();
    const c = parseAccessTokenClaims(claims({ client_id: actor, act: { sub: actor }, delegation_id: id() }));
    expect(principalOf(c)).toEqual({
      actorAgentId: actor,
      subjectAgentId: c.sub,
      rootAgentId: c.agent.root_agent_id,
      scopes: ['agents:read', 'agents:write'],
      act: { sub: actor },
      delegationId: c.delegation_id,
      tokenId: c.jti,
      credentialId: c.cid,
    });
  });
});
