import { ArgumentsHost, Catch, ExceptionFilter, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ROOT_LOGGER, toProblem } from '@agentauth/core';
import { AuthorizationPageError } from '../../protocol/authorization-request';
import { AuthorizeSessionError } from './authorize-session';
import { errorPage } from './authorize.pages';

/**
 * The headers of every page of the authorization endpoint (CONTRACT §11): never cached, never framed
 * (`frame-ancestors 'none'`, X-Frame-Options for old browsers), nothing loaded but the inline stylesheet,
 * no referrer (the URL holds the request). No `form-action`: browsers apply it to the redirect that follows
 * a form POST, and the decision form redirects to the client's own redirect URI.
 */
export const AUTHORIZE_PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; frame-ancestors 'none'";

export function sendHtml(res: Response, status: number, body: string): void {
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res.setHeader('Content-Security-Policy', AUTHORIZE_PAGE_CSP);
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.status(status).send(body);
}

/**
 * Every error of the authorization pages as an HTML error page (these routes are exempt from problem+json,
 * CONTRACT §11), never a redirect: a request that cannot be answered at the client (400), a POST without a
 * valid session or CSRF token (403), the IP over its limit (429 with Retry-After), anything else by status
 * (an unexpected error: 500, the cause in the log only).
 */
@Catch()
export class AuthorizePageFilter implements ExceptionFilter {
  constructor(@Inject(ROOT_LOGGER) private readonly rootLogger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request & { log?: Logger }>();
    const res = http.getResponse<Response>();
    if (res.headersSent) return;
    if (exception instanceof AuthorizationPageError) {
      (req.log ?? this.rootLogger).info(
        { reason: exception.internalReason ?? exception.error },
        'authorization request refused (error page)',
      );
      sendHtml(
        res,
        exception.status,
        errorPage({ error: exception.error, description: exception.description }),
      );
      return;
    }
    if (exception instanceof AuthorizeSessionError) {
      (req.log ?? this.rootLogger).info({ reason: exception.reason }, 'authorization form refused');
      sendHtml(
        res,
        403,
        errorPage({
          error: 'invalid_request',
          description:
            'This form has expired or was not sent from this sign-in page (missing session or CSRF token). Start again from the application.',
        }),
      );
      return;
    }
    const problem = toProblem(exception);
    if (problem.status >= 500) {
      const err = exception instanceof Error ? exception : new Error(String(exception));
      (req.log ?? this.rootLogger).error(
        { err: { type: err.name, message: err.message, stack: err.stack } },
        'unhandled error',
      );
    }
    for (const [name, value] of Object.entries(problem.extra.headers ?? {})) res.setHeader(name, value);
    const description =
      problem.status >= 500 ? 'An unexpected error occurred. Try again later.' : problem.detail;
    const error =
      problem.status === 429
        ? 'temporarily_unavailable'
        : problem.status >= 500
          ? 'server_error'
          : problem.code;
    sendHtml(res, problem.status, errorPage({ error, description }));
  }
}
