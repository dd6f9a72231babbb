import type { Request } from 'express';
import {
  InvalidClientError,
  InvalidRequestError,
  oauthParams,
  parseBasicAuthorization,
  presentedClientCredentials,
} from '@agentauth/auth';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const req = (headers: Record<string, string> = {}, body: unknown = {}) =>
  ({ headers, body }) as unknown as Request;

describe('client authentication (RFC 6749 §2.3.1)', () => {
  it('parses Basic credentials', () => {
    expect(parseBasicAuthorization(basic('agent-1', 'aa_x_y'))).toEqual({
      clientId: 'agent-1',
      clientSecret: 'aa_x_y',
    });
  });

  it('form-urlencoding-decodes the id and the secret inside Basic', () => {
    // A client following the RFC encodes ':' '+' '%' ' ' in its secret before base64.
    const encodedSecret = encodeURIComponent('s3cr:t+%x y').replace(/%20/g, '+');
    expect(parseBasicAuthorization(basic('id%2Fwith%2Fslashes', encodedSecret))).toEqual({
      clientId: 'id/with/slashes',
      clientSecret: 's3cr:t+%x y',
    });
  });

  it('splits at the first colon only (the id cannot contain a raw colon, the secret can)', () => {
    expect(parseBasicAuthorization(basic('id', 'a:b:c'))).toEqual({ clientId: 'id', clientSecret: 'a:b:c' });
  });

  it('ignores other schemes and rejects malformed Basic headers as invalid_client', () => {
    expect(parseBasicAuthorization(undefined)).toBeUndefined();
    expect(parseBasicAuthorization('Bearer abc')).toBeUndefined();
    expect(() => parseBasicAuthorization('Basic !!!')).toThrow(InvalidClientError);
    expect(() => parseBasicAuthorization(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toThrow(
      InvalidClientError,
    );
    expect(() => parseBasicAuthorization(basic('', 'secret'))).toThrow(InvalidClientError);
    expect(() => parseBasicAuthorization(basic('id', '%E0%A4%A'))).toThrow(InvalidClientError);
  });

  it('accepts client_secret_post and refuses two methods at once', () => {
    expect(presentedClientCredentials(req(), { client_id: 'a', client_secret: 'b' })).toEqual({
      clientId: 'a',
      clientSecret: 'b',
      method: 'client_secret_post',
    });
    expect(() =>
      presentedClientCredentials(req({ authorization: basic('a', 'b') }), {
        client_id: 'a',
        client_secret: 'b',
      }),
    ).toThrow(InvalidRequestError);
    expect(
      presentedClientCredentials(req({ authorization: basic('a', 'b') }), { client_id: 'a' })?.method,
    ).toBe('client_secret_basic');
    expect(() =>
      presentedClientCredentials(req({ authorization: basic('a', 'b') }), { client_id: 'other' }),
    ).toThrow(InvalidRequestError);
    expect(presentedClientCredentials(req(), {})).toBeUndefined();
  });
});

describe('oauthParams', () => {
  it('takes string parameters and refuses repeated or non-string ones', () => {
    expect(oauthParams(req({}, { grant_type: 'client_credentials' }))).toEqual({
      grant_type: 'client_credentials',
    });
    expect(() => oauthParams(req({}, { scope: ['a', 'b'] }))).toThrow(/repeated/);
    expect(() => oauthParams(req({}, { scope: 3 }))).toThrow(/must be a string/);
    expect(oauthParams(req({}, undefined))).toEqual({});
  });

  describe('private_key_jwt (RFC 7523 §2.2)', () => {
    const TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

    it('presents the assertion and the client_id parameter when sent', () => {
      expect(
        presentedClientCredentials(req(), { client_assertion_type: TYPE, client_assertion: 'a.b.c' }),
      ).toEqual({
        assertion: 'a.b.c',
        method: 'private_key_jwt',
      });
      expect(
        presentedClientCredentials(req(), {
          client_assertion_type: TYPE,
          client_assertion: 'a.b.c',
          client_id: 'x',
        }),
      ).toEqual({ assertion: 'a.b.c', clientId: 'x', method: 'private_key_jwt' });
    });

    it('refuses an assertion with Basic or with client_secret as two methods (invalid_request)', () => {
      const params = { client_assertion_type: TYPE, client_assertion: 'a.b.c' };
      expect(() => presentedClientCredentials(req({ authorization: basic('id', 's') }), params)).toThrow(
        InvalidRequestError,
      );
      expect(() =>
        presentedClientCredentials(req(), { ...params, client_id: 'id', client_secret: 's' }),
      ).toThrow(InvalidRequestError);
    });

    it('refuses another assertion type, or a type without an assertion, as invalid_client', () => {
      expect(() =>
        presentedClientCredentials(req(), { client_assertion_type: 'urn:x', client_assertion: 'a.b.c' }),
      ).toThrow(InvalidClientError);
      expect(() => presentedClientCredentials(req(), { client_assertion_type: TYPE })).toThrow(
        InvalidClientError,
      );
      expect(() => presentedClientCredentials(req(), { client_assertion: 'a.b.c' })).toThrow(
        InvalidClientError,
      );
    });
  });
});
