import {
  bearerTokenOf,
  credentialsOf,
  presentedRequestOf,
  protectedResourceMetadata,
  requestUrlOf,
  protectedResourceMetadataPath,
  protectedResourceMetadataUrl,
  refusalFor,
  TokenVerificationError,
  wwwAuthenticate,
} from '@agentauth/sdk';

describe('resource-server helpers', () => {
  it('builds RFC 9728 path-form metadata URLs', () => {
    expect(protectedResourceMetadataUrl('https://api.example.com/mcp')).toBe(
      'https://api.example.com/.well-known/oauth-protected-resource/mcp',
    );
    expect(protectedResourceMetadataUrl('https://api.example.com/')).toBe(
      'https://api.example.com/.well-known/oauth-protected-resource',
    );
    expect(protectedResourceMetadataUrl('http://127.0.0.1:8000/api/v1/')).toBe(
      'http://127.0.0.1:8000/.well-known/oauth-protected-resource/api/v1',
    );
    expect(protectedResourceMetadataPath('https://x.example/a/b')).toBe(
      '/.well-known/oauth-protected-resource/a/b',
    );
  });

  it('builds WWW-Authenticate challenges with quoted, escaped parameters', () => {
    expect(wwwAuthenticate()).toBe('Bearer');
    expect(
      wwwAuthenticate({
        realm: 'api',
        resourceMetadata: 'https://x/.well-known/oauth-protected-resource',
        error: 'insufficient_scope',
        errorDescription: 'needs "a"\\b\n',
        scope: ['a', 'b'],
      }),
    ).toBe(
      'Bearer realm="api", resource_metadata="https://x/.well-known/oauth-protected-resource", error="insufficient_scope", error_description="needs \\"a\\"\\\\b", scope="a b"',
    );
    expect(wwwAuthenticate({ scheme: 'DPoP', error: 'invalid_token' })).toBe('DPoP error="invalid_token"');
  });

  it('reads only a well-formed single Bearer credential', () => {
    expect(bearerTokenOf('Bearer abc.def-_~+/=')).toBe('abc.def-_~+/=');
    expect(bearerTokenOf('bearer abc')).toBe('abc');
    expect(bearerTokenOf(undefined)).toBeUndefined();
    expect(bearerTokenOf('Basic abc')).toBeUndefined();
    expect(bearerTokenOf('Bearer a b')).toBeUndefined();
    expect(bearerTokenOf(['Bearer a', 'Bearer b'])).toBeInstanceOf(TokenVerificationError);
  });

  it('describes the resource (RFC 9728): the issuer, header tokens, the DPoP algorithms, DPoP required when asked', () => {
    expect(
      protectedResourceMetadata({
        resource: 'https://r.example/mcp',
        issuer: 'https://a.example/',
        scopesSupported: ['x'],
      }),
    ).toEqual({
      resource: 'https://r.example/mcp',
      authorization_servers: ['https://a.example'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['x'],
      dpop_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA'],
    });
    expect(
      protectedResourceMetadata({
        resource: 'https://r.example',
        issuer: 'https://a.example',
        dpopRequired: true,
      }),
    ).toMatchObject({ dpop_bound_access_tokens_required: true });
  });

  it('reads Bearer and DPoP credentials (RFC 9449 §7.1); Bearer-only helpers ignore DPoP', () => {
    expect(credentialsOf('DPoP abc.def')).toEqual({ scheme: 'DPoP', token: 'abc.def' });
    expect(credentialsOf('dpop abc')).toEqual({ scheme: 'DPoP', token: 'abc' });
    expect(credentialsOf('Bearer abc')).toEqual({ scheme: 'Bearer', token: 'abc' });
    expect(credentialsOf('DPoP')).toBeUndefined();
    expect(bearerTokenOf('DPoP abc')).toBeUndefined();
  });

  it('builds the URL a DPoP proof must name: the public origin + the original path', () => {
    const req = {
      headers: { host: 'internal:3000', dpop: 'p' },
      method: 'POST',
      originalUrl: '/api/files?x=1',
      url: '/files?x=1',
      protocol: 'http',
    };
    expect(requestUrlOf(req)).toBe('http://internal:3000/api/files?x=1');
    expect(requestUrlOf(req, { publicOrigin: 'https://files.example.com/ignored-path' })).toBe(
      'https://files.example.com/api/files?x=1',
    );
    expect(presentedRequestOf(req, { publicOrigin: 'https://files.example.com' })).toEqual({
      proof: 'p',
      method: 'POST',
      url: 'https://files.example.com/api/files?x=1',
    });
  });

  it('refuses without an error code when no credentials were sent (RFC 6750 §3.1), with one otherwise', () => {
    const anonymous = refusalFor(undefined, { resourceMetadataUrl: 'https://m' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['WWW-Authenticate']).toBe('Bearer resource_metadata="https://m"');
    const scope = refusalFor(
      new TokenVerificationError('insufficient_scope', 'token lacks scope a', ['a']),
      {},
    );
    expect(scope).toMatchObject({
      status: 403,
      headers: {
        'WWW-Authenticate':
          'Bearer error="insufficient_scope", error_description="token lacks scope a", scope="a"',
      },
      body: { error: 'insufficient_scope', error_description: 'token lacks scope a' },
    });
  });
});
