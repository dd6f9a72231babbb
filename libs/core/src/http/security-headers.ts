import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/** The Content-Security-Policy of every response: Swagger UI needs inline styles; nothing else is HTML. */
export const SECURITY_HEADER_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
    },
  },
};

/**
 * Helmet's security headers, computed once at start-up and set on every response. Helmet builds them per
 * request through a dozen small middlewares although, with static options (no nonces), they never change:
 * running it once against a recording response yields exactly the headers it would set.
 */
export function securityHeadersMiddleware(options: HelmetOptions = SECURITY_HEADER_OPTIONS) {
  if (hasPerRequestDirective(options)) {
    throw new Error('security headers: a per-request CSP directive (function) cannot be computed once');
  }
  const headers = new Map<string, string>();
  let completed = false;
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
    getHeader: () => undefined,
  };
  helmet(options)(
    { headers: {}, method: 'GET' } as unknown as IncomingMessage,
    recorder as unknown as ServerResponse,
    (error?: unknown) => {
      if (error instanceof Error) throw error;
      if (error) throw new Error('helmet refused the security header options');
      completed = true;
    },
  );
  // Helmet completes synchronously for static options; anything else would need it per request.
  if (!completed) throw new Error('helmet did not complete synchronously: options must be static');
  const entries = [...headers];
  return (_req: Request, res: Response, next: NextFunction): void => {
    for (const [name, value] of entries) res.setHeader(name, value);
    next();
  };
}

function hasPerRequestDirective(options: HelmetOptions): boolean {
  const csp = options.contentSecurityPolicy;
  if (typeof csp !== 'object' || csp === null || !csp.directives) return false;
  return Object.values(csp.directives).some(
    (value) =>
      typeof value === 'function' || (Array.isArray(value) && value.some((v) => typeof v === 'function')),
  );
}
