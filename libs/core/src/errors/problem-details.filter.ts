import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../logging/logging.module';
import { Problem, problemType, titleForStatus } from './problems';
import { requestIdOf } from '../http/request-context';

/** Maps the errors body-parser and Express raise (they carry `status`/`type`) to a problem. */
function fromHttpLayerError(error: unknown): Problem | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { status?: unknown; statusCode?: unknown; type?: unknown; expose?: unknown };
  const status =
    typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 0;
  if (status < 400 || status > 499) return undefined;
  switch (e.type) {
    case 'entity.too.large':
      return new Problem(413, 'payload_too_large', 'The request body is too large');
    case 'entity.parse.failed':
      return new Problem(400, 'malformed_body', 'The request body could not be parsed');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new Problem(415, 'unsupported_media_type', 'The request body encoding is not supported');
    default:
      return new Problem(status, 'bad_request', titleForStatus(status));
  }
}

function fromHttpException(exception: HttpException): Problem {
  const status = exception.getStatus();
  const response = exception.getResponse();
  const layerProblem = fromHttpLayerError(exception.cause);
  if (layerProblem) return layerProblem;
  if (isHealthCheckFailure(response)) {
    return new Problem(status, 'not_ready', 'A backend this process needs is unavailable', {
      extensions: { details: response.details },
    });
  }
  let detail = titleForStatus(status);
  if (typeof response === 'string') detail = response;
  else if (typeof response === 'object' && response !== null) {
    const message = (response as { message?: unknown }).message;
    if (typeof message === 'string') detail = message;
    else if (Array.isArray(message)) detail = message.join('; ');
  }
  const code = status === 404 ? 'not_found' : titleForStatus(status).toLowerCase().replace(/\s+/g, '_');
  return new Problem(status, code, detail);
}

/** Terminus's failed health-check body: kept as an extension so operators see which backend is down. */
function isHealthCheckFailure(response: unknown): response is { status: 'error'; details: unknown } {
  return (
    typeof response === 'object' &&
    response !== null &&
    (response as { status?: unknown }).status === 'error' &&
    'details' in response
  );
}

/**
 * RFC 9457 problem+json for every error outside the OAuth endpoints. Anything unexpected becomes a
 * 500 with no internals; the cause goes to the log, never to the client.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(@Inject(ROOT_LOGGER) private readonly rootLogger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<Request>();
    const res = ctx.getResponse<Response>();
    const problem = toProblem(exception);
    if (problem.status >= 500) {
      const err = exception instanceof Error ? exception : new Error(String(exception));
      const logger = (req as Request & { log?: Logger }).log ?? this.rootLogger;
      logger.error({ err: { type: err.name, message: err.message, stack: err.stack } }, 'unhandled error');
    }
    if (res.headersSent) return;
    sendProblem(res, problem, requestIdOf(req));
  }
}

export function toProblem(exception: unknown): Problem {
  if (exception instanceof Problem) return exception;
  if (exception instanceof HttpException) return fromHttpException(exception);
  return (
    fromHttpLayerError(exception) ??
    new Problem(
      500,
      'internal_error',
      'An unexpected error occurred; the request id identifies it in the logs',
    )
  );
}

export function sendProblem(res: Response, problem: Problem, requestId: string | undefined): void {
  for (const [name, value] of Object.entries(problem.extra.headers ?? {})) res.setHeader(name, value);
  res
    .status(problem.status)
    .type('application/problem+json')
    .send(
      JSON.stringify({
        type: problemType(problem.code),
        title: titleForStatus(problem.status),
        status: problem.status,
        detail: problem.detail,
        request_id: requestId,
        ...(problem.extra.errors ? { errors: problem.extra.errors } : {}),
        ...(problem.extra.extensions ?? {}),
      }),
    );
}

const OAUTH_CODE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'invalid_client',
  403: 'unauthorized_client',
  404: 'invalid_request',
  405: 'invalid_request',
  413: 'invalid_request',
  415: 'invalid_request',
  429: 'rate_limited',
  503: 'temporarily_unavailable',
};

/**
 * A problem rendered the RFC 6749 way, for the OAuth endpoints (`{error, error_description}`), keeping the
 * problem's status and headers (e.g. Retry-After on 429). 5xx never carry internals.
 */
export function sendOAuthError(res: Response, problem: Problem): void {
  for (const [name, value] of Object.entries(problem.extra.headers ?? {})) res.setHeader(name, value);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  const error =
    OAUTH_CODE_BY_STATUS[problem.status] ?? (problem.status >= 500 ? 'server_error' : 'invalid_request');
  const description =
    problem.status >= 500 && problem.status !== 503
      ? 'The server could not process the request'
      : problem.detail;
  res.status(problem.status).json({ error, error_description: description });
}
