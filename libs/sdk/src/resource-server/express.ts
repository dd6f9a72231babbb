import { authenticate, presentedRequestOf, type ProtectionOptions, type Refusal } from './challenge.js';
import type { MinimalResponse } from './metadata.js';
import type { TokenVerifier, VerifiedToken } from './verifier.js';

declare global {
  // Express's Request (when @types/express is present) gains the verified token the middleware sets.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      agentAuth?: VerifiedToken;
    }
  }
}

/** The parts of a Node/Express request the middleware reads and writes. */
export interface MinimalRequest {
  headers: Record<string, string | string[] | undefined>;
  method?: string;
  originalUrl?: string;
  url?: string;
  protocol?: string;
  /** Set by the middleware on success. */
  agentAuth?: VerifiedToken;
}

function sendRefusal(res: MinimalResponse, refusal: Refusal): void {
  res.statusCode = refusal.status;
  for (const [name, value] of Object.entries(refusal.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(refusal.body));
}

/**
 * Express (or Connect) middleware: a valid AgentAuth access token in `Authorization: Bearer` — or, for a
 * DPoP-bound token, `Authorization: DPoP` with a valid `DPoP` proof (RFC 9449) — or 401/403 with
 * the RFC 6750 (or RFC 9449 §7.1) challenge and, when `resourceMetadataUrl` is given, the RFC 9728 `resource_metadata` link.
 * The verified token is on `req.agentAuth`. A JWKS or introspection outage answers 503 (fail closed).
 */
export function requireAgentAuth(verifier: TokenVerifier, options: ProtectionOptions = {}) {
  return (req: MinimalRequest, res: MinimalResponse, next: (error?: unknown) => void): void => {
    authenticate(verifier, req.headers.authorization, options, presentedRequestOf(req, options)).then(
      (outcome) => {
        if (outcome.ok) {
          req.agentAuth = outcome.token;
          next();
        } else {
          sendRefusal(res, outcome.refusal);
        }
      },
      () => {
        res.statusCode = 503;
        res.setHeader('Content-Type', 'application/json');
        res.setHeader('Retry-After', '5');
        res.end(
          JSON.stringify({ error: 'temporarily_unavailable', error_description: 'token check unavailable' }),
        );
      },
    );
  };
}
