import { ArgumentsHost, Catch, ExceptionFilter, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ROOT_LOGGER, sendOAuthError, toProblem } from '@agentauth/core';
import { OAuthError } from '../vocabulary/oauth-errors';

/**
 * The OAuth endpoints' error renderer: RFC 6749 `{error, error_description}` bodies. Typed OAuth errors keep
 * their code; API-level problems (validation, rate limit, …) are mapped by status; anything unexpected is a
 * `server_error` with no internals (the cause goes to the log).
 */
@Catch()
export class OAuthExceptionFilter implements ExceptionFilter {
  constructor(@Inject(ROOT_LOGGER) private readonly rootLogger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request & { log?: Logger }>();
    const res = http.getResponse<Response>();
    if (res.headersSent) return;
    if (exception instanceof OAuthError) {
      for (const [name, value] of Object.entries(exception.headers)) res.setHeader(name, value);
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('Pragma', 'no-cache');
      res.status(exception.status).json({ error: exception.error, error_description: exception.description });
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
    sendOAuthError(res, problem);
  }
}
