import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import helmet from 'helmet';
import {
  SECURITY_HEADER_OPTIONS,
  securityHeadersMiddleware,
} from '../../../libs/core/src/http/security-headers';

function recordingResponse() {
  const headers = new Map<string, string>([['X-Powered-By', 'Express']]);
  return {
    headers,
    setHeader: (name: string, value: unknown) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
    getHeader: (name: string) => headers.get(name),
  };
}

describe('securityHeadersMiddleware', () => {
  it('sets exactly the headers helmet sets per request, once computed', () => {
    const live = recordingResponse();
    helmet(SECURITY_HEADER_OPTIONS)(
      { headers: {}, method: 'GET' } as unknown as IncomingMessage,
      live as unknown as ServerResponse,
      () => undefined,
    );
    const cached = recordingResponse();
    cached.headers.clear(); // Express's X-Powered-By is disabled in configureApiApp
    live.headers.delete('X-Powered-By');
    let nextCalls = 0;
    const middleware = securityHeadersMiddleware();
    middleware({} as Request, cached as unknown as Response, () => nextCalls++);
    expect(nextCalls).toBe(1);
    expect([...cached.headers].sort()).toEqual([...live.headers].sort());
    expect(cached.headers.size).toBeGreaterThanOrEqual(10);
  });

  it('refuses a per-request CSP directive (a nonce function), which one computation would freeze', () => {
    expect(() =>
      securityHeadersMiddleware({
        contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => "'nonce-abc'"] } },
      }),
    ).toThrow(/per-request CSP directive/);
  });
});
