import { createHash, randomBytes } from 'node:crypto';
import { API } from '../../factories/agents';

/** A PKCE pair (RFC 7636): a 43-character verifier and its S256 challenge. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The authorization URL of a listening app. */
export function authorizeUrl(base: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.append(name, value);
  return `${base}${API}/auth/authorize?${query.toString()}`;
}

export interface PageResponse {
  status: number;
  headers: Headers;
  body: string;
  /** `Location` of a redirect. */
  location: string | null;
}

/**
 * A tiny browser over fetch: a cookie jar (name → value, Set-Cookie with Max-Age=0 deletes), redirects not
 * followed (the tests look at each one), form posts url-encoded. Enough for the authorization pages.
 */
export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly base: string) {}

  async get(url: string): Promise<PageResponse> {
    return this.send(url, { method: 'GET' });
  }

  /** POST a form; a field given as an array is sent once per value (checkboxes). */
  async post(url: string, fields: Record<string, string | string[] | undefined>): Promise<PageResponse> {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) body.append(name, v);
    }
    return this.send(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    });
  }

  private async send(url: string, init: RequestInit): Promise<PageResponse> {
    const absolute = url.startsWith('http') ? url : `${this.base}${url}`;
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(absolute, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) },
    });
    for (const set of res.headers.getSetCookie()) {
      const [pair, ...attributes] = set.split(';').map((s) => s.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (attributes.some((a) => /^max-age=0$/i.test(a)) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return {
      status: res.status,
      headers: res.headers,
      body: await res.text(),
      location: res.headers.get('location'),
    };
  }
}

/** Every `<input>` of a page with its attributes (markup may span lines). */
export function inputsOf(page: string): Record<string, string>[] {
  return [...page.matchAll(/<input\b([^>]*)>/g)].map((m) =>
    Object.fromEntries([...m[1].matchAll(/([a-zA-Z_-]+)(?:="([^"]*)")?/g)].map((a) => [a[1], a[2] ?? ''])),
  );
}

/** The value of a form's hidden `csrf_token`. */
export function csrfOf(page: string): string {
  const input = inputsOf(page).find((i) => i.name === 'csrf_token');
  if (!input) throw new Error(`no csrf_token in the page:\n${page.slice(0, 500)}`);
  return input.value;
}

/** The `action` of the page's form. */
export function formActionOf(page: string): string {
  const match = /<form\b[^>]*\baction="([^"]*)"/.exec(page);
  if (!match) throw new Error(`no form in the page:\n${page.slice(0, 500)}`);
  return match[1].replace(/&amp;/g, '&');
}

/** The scope checkboxes of a consent page: value, checked, disabled. */
export function scopeBoxesOf(page: string): { scope: string; checked: boolean; disabled: boolean }[] {
  return inputsOf(page)
    .filter((i) => i.type === 'checkbox' && i.name === 'scope')
    .map((i) => ({ scope: i.value, checked: 'checked' in i, disabled: 'disabled' in i }));
}

/** The query parameters of a redirect to the client. */
export function redirectParams(location: string | null): Record<string, string> {
  if (!location) throw new Error('no redirect');
  return Object.fromEntries(new URL(location).searchParams);
}
