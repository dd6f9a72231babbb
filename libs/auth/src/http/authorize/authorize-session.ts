import { createHmac, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { type AppConfig, constantTimeEqual } from '@agentauth/core';
import type { SignedInApprover } from '../../authorization/consent.service';
import type { AuthorizationParams } from '../../protocol/authorization-request';

export const AUTHORIZE_SESSION_COOKIE = 'agentauth_authorize';
/** Long enough to sign in and read the consent page; short enough that a forgotten tab expires. */
export const AUTHORIZE_SESSION_SECONDS = 600;

/** What the session cookie holds: the pending request, the CSRF token and, once signed in, the approver. */
export interface AuthorizeSession {
  v: 1;
  /** Random; every form of the flow echoes it in `csrf_token`. */
  csrf: string;
  /** Expiry (ms since the epoch). */
  exp: number;
  /** The authorization request's parameters (validated again on every step). */
  req: AuthorizationParams;
  /** The signed-in agent (never its API key). */
  approver?: SignedInApprover;
}

/** A POST that cannot be trusted (no session, expired, forged CSRF token): 403, never a redirect. */
export class AuthorizeSessionError extends Error {
  constructor(readonly reason: string) {
    super(`authorize session refused: ${reason}`);
    this.name = 'AuthorizeSessionError';
  }
}

function cookieValue(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The short signed session of the authorization pages (CONTRACT §11): a cookie `HttpOnly`, `SameSite=Lax`,
 * `Secure` on https, scoped to the authorize routes, holding the pending request, the CSRF token and the
 * signed-in agent, signed with HMAC-SHA256 under a key derived from SECRET_KEY (every API instance accepts
 * it). Not encrypted: it holds nothing secret (the request came in the URL; the API key never enters it).
 * The CSRF token is the synchronizer pattern bound to this session: a form is accepted only with the token
 * of the session cookie the browser sends, and a cross-site POST carries no cookie (SameSite=Lax).
 */
export class AuthorizeSessions {
  private readonly key: Buffer;
  private readonly path: string;
  private readonly secure: boolean;

  constructor(config: Pick<AppConfig, 'secretKey' | 'apiPrefix' | 'publicBaseUrl'>) {
    this.key = createHmac('sha256', config.secretKey).update('agentauth/authorize-session/v1').digest();
    this.path = `${config.apiPrefix}/auth/authorize`;
    this.secure = config.publicBaseUrl.startsWith('https:');
  }

  /** A new session for a request (no one signed in yet). */
  start(req: AuthorizationParams, nowMs: number): AuthorizeSession {
    return {
      v: 1,
      csrf: randomBytes(32).toString('base64url'),
      exp: nowMs + AUTHORIZE_SESSION_SECONDS * 1000,
      req,
    };
  }

  write(res: Response, session: AuthorizeSession): void {
    const payload = Buffer.from(JSON.stringify(session), 'utf8').toString('base64url');
    const value = `${payload}.${this.sign(payload)}`;
    res.append('Set-Cookie', this.cookie(value, AUTHORIZE_SESSION_SECONDS));
  }

  clear(res: Response): void {
    res.append('Set-Cookie', this.cookie('', 0));
  }

  /** The session the request's cookie holds, or why there is none usable. */
  read(req: Request, nowMs: number): AuthorizeSession {
    const raw = cookieValue(req, AUTHORIZE_SESSION_COOKIE);
    if (!raw) throw new AuthorizeSessionError('no_session');
    const dot = raw.indexOf('.');
    if (dot <= 0 || raw.length > 8192) throw new AuthorizeSessionError('malformed_session');
    const payload = raw.slice(0, dot);
    if (!constantTimeEqual(raw.slice(dot + 1), this.sign(payload))) {
      throw new AuthorizeSessionError('bad_session_signature');
    }
    let session: AuthorizeSession;
    try {
      session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as AuthorizeSession;
    } catch {
      throw new AuthorizeSessionError('malformed_session');
    }
    if (session?.v !== 1 || typeof session.csrf !== 'string' || typeof session.exp !== 'number') {
      throw new AuthorizeSessionError('malformed_session');
    }
    if (session.exp <= nowMs) throw new AuthorizeSessionError('session_expired');
    return session;
  }

  /** The session of a form POST: a valid cookie AND the form's `csrf_token` equal to its token. */
  readForPost(req: Request, nowMs: number): AuthorizeSession {
    const session = this.read(req, nowMs);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const presented = body.csrf_token;
    if (typeof presented !== 'string' || !constantTimeEqual(presented, session.csrf)) {
      throw new AuthorizeSessionError('csrf_mismatch');
    }
    return session;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }

  private cookie(value: string, maxAge: number): string {
    return [
      `${AUTHORIZE_SESSION_COOKIE}=${value}`,
      `Path=${this.path}`,
      `Max-Age=${maxAge}`,
      'HttpOnly',
      'SameSite=Lax',
      ...(this.secure ? ['Secure'] : []),
    ].join('; ');
  }
}
