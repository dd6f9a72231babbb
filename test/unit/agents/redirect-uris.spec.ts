import { matchRedirectUri, redirectUriProblem } from '../../../libs/agents/src/redirect-uris';

/** CONTRACT §11's redirect URI rules (RFC 8252 §7, OAuth 2.1 §2.3.1): what may be registered, what matches. */
describe('redirect URIs', () => {
  it.each([
    'https://app.example.com/callback',
    'https://app.example.com/callback?tenant=1',
    'https://app.example.com:8443/cb',
    'http://127.0.0.1/callback',
    'http://127.0.0.1:8080/callback',
    'http://[::1]/callback',
    'http://localhost:3000/oauth/callback',
    'http://localhost',
    'com.example.app:/oauth2redirect',
    'com.example.app:/cb?x=1',
  ])('accepts %s', (uri) => {
    expect(redirectUriProblem(uri)).toBeNull();
  });

  it.each([
    ['http://example.com/cb', /loopback/],
    ['http://127.0.0.2/cb', /loopback/],
    ['http://localhost.evil.com/cb', /loopback/],
    ['http://127.0.0.1:99999/cb', /loopback|absolute/],
    ['https://app.example.com/cb#fragment', /fragment/],
    ['https://app.example.com/cb#', /fragment/],
    ['javascript:alert(1)', /private-use/],
    ['JavaScript:alert(1)', /private-use/],
    ['data:text/html,<script>', /printable|private-use/],
    ['vbscript:msgbox', /private-use/],
    ['file:///etc/passwd', /private-use/],
    ['myapp:/cb', /private-use/],
    ['ftp://example.com/cb', /private-use/],
    ['/relative/path', /absolute/],
    ['//example.com/cb', /absolute/],
    ['https://user:pass@example.com/cb', /user information/],
    ['https://example.com/ cb', /printable/],
    ['https://exämple.com/cb', /printable/],
    ['HTTPS://example.com/cb', /lower case/],
    ['', /non-empty/],
    [`https://example.com/${'a'.repeat(2001)}`, /at most/],
  ])('refuses %s', (uri, reason) => {
    expect(redirectUriProblem(uri)).toMatch(reason);
  });

  it('compares https and private-use URIs as exact strings', () => {
    const registered = ['https://app.example.com/cb', 'com.example.app:/cb'];
    expect(matchRedirectUri(registered, 'https://app.example.com/cb')).toBe(true);
    expect(matchRedirectUri(registered, 'com.example.app:/cb')).toBe(true);
    for (const near of [
      'https://app.example.com/cb/',
      'https://app.example.com/cb?x=1',
      'https://app.example.com:443/cb',
      'https://APP.example.com/cb',
      'https://app.example.com/CB',
      'https://app.example.com/cb#x',
      'com.example.app:/cb2',
      'com.example.app://cb',
    ]) {
      expect(matchRedirectUri(registered, near)).toBe(false);
    }
  });

  it('ignores the port of loopback http URIs, and only the port (RFC 8252 §7.3)', () => {
    const registered = ['http://127.0.0.1/callback', 'http://localhost:3000/cb?x=1'];
    expect(matchRedirectUri(registered, 'http://127.0.0.1:53123/callback')).toBe(true);
    expect(matchRedirectUri(registered, 'http://127.0.0.1/callback')).toBe(true);
    expect(matchRedirectUri(registered, 'http://localhost/cb?x=1')).toBe(true);
    expect(matchRedirectUri(registered, 'http://localhost:9/cb?x=1')).toBe(true);
    for (const near of [
      'http://127.0.0.1:53123/callback/',
      'http://127.0.0.1:53123/other',
      'http://127.0.0.1:53123/callback?x=1',
      'http://localhost:53123/callback', // host compared literally: localhost ≠ 127.0.0.1
      'http://[::1]:53123/callback',
      'https://127.0.0.1:53123/callback',
      'http://127.0.0.1:53123/callback#x',
      'http://localhost:3000/cb',
      'http://localhost:3000/cb?x=2',
      'http://127.0.0.1:99999/callback',
      'http://evil.com/callback',
    ]) {
      expect(matchRedirectUri(registered, near)).toBe(false);
    }
  });

  it('matches nothing against an empty registration', () => {
    expect(matchRedirectUri([], 'https://app.example.com/cb')).toBe(false);
  });
});
