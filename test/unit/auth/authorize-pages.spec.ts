import { createHash } from 'node:crypto';
import { verifiesS256 } from '../../../libs/auth/src/grants/authorization-code.grant';
import {
  consentPage,
  describeLifetime,
  errorPage,
  escapeHtml,
  html,
  SafeHtml,
  signInPage,
} from '../../../libs/auth/src/http/authorize/authorize.pages';
import {
  clientRedirect,
  parseAuthorizationQuery,
} from '../../../libs/auth/src/protocol/authorization-request';

const HOSTILE = `<img src=x onerror="alert('x')">&\``;

describe('authorization pages', () => {
  it('escapes every interpolation, keeps SafeHtml, joins arrays', () => {
    expect(escapeHtml(HOSTILE)).toBe('&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;&#96;');
    expect(html`<p>${HOSTILE}</p>`.value).toBe(`<p>${escapeHtml(HOSTILE)}</p>`);
    expect(html`<p>${new SafeHtml('<b>ok</b>')}</p>`.value).toBe('<p><b>ok</b></p>');
    expect(html`${['<a>', new SafeHtml('<b>')]}`.value).toBe('&lt;a&gt;<b>');
    expect(html`${null}${undefined}${false}${0}`.value).toBe('0');
  });

  it('never lets a client name, scope or description out of its text node', () => {
    const page = consentPage({
      action: '/api/v1/auth/authorize/decision',
      csrf: 'c"sr<f',
      client: { id: 'id', name: HOSTILE },
      parent: { id: 'p', name: HOSTILE },
      redirectHost: HOSTILE,
      resource: HOSTILE,
      approver: { id: 'a', name: HOSTILE },
      lifetime: '7 days',
      scopes: [{ scope: `x"><script>`, grantable: true, description: HOSTILE }],
    });
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<script>');
    expect(page).toContain('value="c&quot;sr&lt;f"');
    expect(
      signInPage({ action: '/a', csrf: 'c', client: { id: 'i', name: HOSTILE }, error: HOSTILE }),
    ).not.toContain('<img');
    expect(errorPage({ error: HOSTILE, description: HOSTILE })).not.toContain('<img');
  });

  it('marks scopes that cannot be granted unchecked and disabled', () => {
    const page = consentPage({
      action: '/d',
      csrf: 'c',
      client: { id: 'id', name: 'n' },
      parent: null,
      redirectHost: 'h',
      resource: 'r',
      approver: { id: 'a', name: 'a' },
      lifetime: '1 day',
      scopes: [
        { scope: 'agents:read', grantable: true, description: 'Read agents' },
        { scope: 'policies:read', grantable: false, description: null },
      ],
    });
    const boxes = [...page.matchAll(/<input\s+type="checkbox"[^>]*>/g)].map((m) => m[0].replace(/\s+/g, ' '));
    expect(boxes[0]).toMatch(/value="agents:read"\s+checked/);
    expect(boxes[1]).toMatch(/value="policies:read"\s+disabled/);
    expect(boxes[1]).not.toMatch(/checked/);
  });

  it('describes lifetimes in words', () => {
    expect(describeLifetime(7 * 86400)).toBe('7 days');
    expect(describeLifetime(3600)).toBe('1 hour');
    expect(describeLifetime(90)).toBe('90 seconds');
  });
});

describe('authorization protocol helpers', () => {
  it('verifies PKCE S256 (RFC 7636 appendix B) and nothing else', () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
    expect(verifiesS256(verifier, challenge)).toBe(true);
    expect(verifiesS256(`${verifier}x`, challenge)).toBe(false);
    expect(verifiesS256(challenge, challenge)).toBe(false);
    // the plain method is refused: the verifier equal to the challenge does not verify
    const short = 'abc';
    expect(verifiesS256(short, createHash('sha256').update(short).digest('base64url'))).toBe(false);
  });

  it('parses the query once per parameter and reports repeats', () => {
    expect(parseAuthorizationQuery('?client_id=a&client_id=b&scope=x&state=&foo=1')).toEqual({
      params: { client_id: 'a', scope: 'x' },
      repeated: ['client_id'],
    });
  });

  it('appends the response to the redirect URI, keeping its query', () => {
    expect(
      clientRedirect('https://app.example.com/cb?x=1', { code: 'c', state: undefined, iss: 'https://as' }),
    ).toBe('https://app.example.com/cb?x=1&code=c&iss=https%3A%2F%2Fas');
    expect(clientRedirect('com.example.app:/cb', { error: 'access_denied', state: 's t' })).toBe(
      'com.example.app:/cb?error=access_denied&state=s+t',
    );
  });
});
