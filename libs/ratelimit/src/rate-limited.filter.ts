import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { requestIdOf, sendProblem } from '@agentauth/core';
import { oauthRateLimitBody, RateLimitedError } from './rate-limited.error';

/**
 * Renders a RateLimitedError: RFC 6749-shaped on client-authentication (OAuth) endpoints, problem+json
 * everywhere else. Registered as a global filter after core's ProblemDetailsFilter, so Nest consults it
 * first for this error type; a controller-level OAuth filter that catches everything takes precedence and
 * should call `oauthRateLimitBody()` itself.
 */
@Catch(RateLimitedError)
export class RateLimitedFilter implements ExceptionFilter {
  catch(error: RateLimitedError, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    if (res.headersSent) return;
    if (!error.clientAuthentication) {
      sendProblem(res, error, requestIdOf(ctx.getRequest<Request>()));
      return;
    }
    const { status, headers, body } = oauthRateLimitBody(error);
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.status(status).json(body);
  }
}
