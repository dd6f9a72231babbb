import type { Request } from 'express';
import { accessTokenCredential } from '@agentauth/core';

const req = (authorization?: string) =>
  ({ headers: authorization ? { authorization } : {} }) as unknown as Request;

describe('accessTokenCredential (RFC 6750 §2.1, RFC 9449 §7.1)', () => {
  it('reads Bearer and DPoP schemes, case-insensitively', () => {
    expect(accessTokenCredential(req('Bearer abc.def'))).toEqual({ scheme: 'Bearer', token: 'abc.def' });
    expect(accessTokenCredential(req('bearer abc'))).toEqual({ scheme: 'Bearer', token: 'abc' });
    expect(accessTokenCredential(req('DPoP abc.def-_'))).toEqual({ scheme: 'DPoP', token: 'abc.def-_' });
    expect(accessTokenCredential(req('dpop abc'))).toEqual({ scheme: 'DPoP', token: 'abc' });
  });

  it('answers nothing for other schemes and malformed values', () => {
    for (const header of [undefined, 'Basic abc', 'DPoP', 'Bearer a b', 'DPoPabc', 'Token abc']) {
      expect(accessTokenCredential(req(header))).toBeUndefined();
    }
  });
});
