import type { Clock } from '@agentauth/sdk';

export const ISSUER = 'https://auth.example.test';
export const API_BASE = `${ISSUER}/api/v1`;
export const TOKEN_ENDPOINT = `${API_BASE}/auth/token`;

/** A clock that only moves when told to; `sleep` advances it at once and records the delay. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(private current = Date.UTC(2026, 11, 7, 12, 0, 0)) {}
  now(): number {
    return this.current;
  }
  advance(ms: number): void {
    this.current += ms;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.current += ms;
  }
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string;
  form: URLSearchParams;
}

type Handler = (req: RecordedRequest) => Response | Promise<Response>;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', 'X-Request-ID': `req-${status}`, ...headers },
  });
}

export function tokenResponse(overrides: Record<string, unknown> = {}, n = 0): Response {
  return json({
    access_token: `token-${n}`,
    token_type: 'Bearer',
    expires_in: 900,
    scope: 'a b',
    ...overrides,
  });
}

/**
 * A fake AgentAuth server as a fetch function: discovery is built in; every other request goes to the
 * handler for "METHOD path" (or to `fallback`). Every request is recorded.
 */
export class FakeServer {
  readonly requests: RecordedRequest[] = [];
  private readonly handlers = new Map<string, Handler>();
  metadata: Record<string, unknown> = {
    issuer: ISSUER,
    token_endpoint: TOKEN_ENDPOINT,
    jwks_uri: `${API_BASE}/auth/jwks`,
    introspection_endpoint: `${API_BASE}/auth/token/introspect`,
    revocation_endpoint: `${API_BASE}/auth/token/revoke`,
    agents_endpoint: `${API_BASE}/agents`,
    delegations_endpoint: `${API_BASE}/delegations`,
  };

  on(route: string, handler: Handler): this {
    this.handlers.set(route, handler);
    return this;
  }

  /** Requests to the token endpoint, in order. */
  tokenRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.url === TOKEN_ENDPOINT);
  }

  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = urlOf(input);
    const request = input instanceof Request ? input : undefined;
    const body =
      typeof init.body === 'string' ? init.body : request && request.body ? await request.text() : '';
    const req: RecordedRequest = {
      method: (init.method ?? request?.method ?? 'GET').toUpperCase(),
      url,
      headers: new Headers(init.headers ?? request?.headers),
      body,
      form: new URLSearchParams(body),
    };
    this.requests.push(req);
    if (url === `${ISSUER}/.well-known/agent-configuration`) return json(this.metadata);
    const handler = this.handlers.get(`${req.method} ${new URL(url).pathname}`);
    if (!handler) return json({ error: 'not_found' }, 404);
    return handler(req);
  };
}

/** A promise with its resolve function, to hold a response until the test lets it go. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The URL of a fetch input. */
export function urlOf(input: string | URL | Request): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}
