import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { storage } from 'nestjs-pino/storage';
import { REQUEST_ID_HEADER, requestIdFor } from './logger-options';

type RequestWithLogger = IncomingMessage & { id?: string; log?: Logger };

/**
 * The first middleware of every request: its id (the client's `X-Request-ID` when sane, else a new uuid),
 * echoed in the response, and `req.log` — a child of the root logger bound to `request_id`, created on
 * first use only. Most requests log nothing below the configured level, and building a pino child per
 * request (bindings, redaction set-up) was a tenth of the CPU of a hot request (docs/performance.md).
 */
export function requestLoggerMiddleware(rootLogger: Logger) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const request = req as RequestWithLogger;
    const id = requestIdFor(req.headers[REQUEST_ID_HEADER]);
    res.setHeader('X-Request-ID', id);
    request.id = id;
    let child: Logger | undefined;
    Object.defineProperty(request, 'log', {
      configurable: true,
      enumerable: false,
      get: () => (child ??= rootLogger.child({ request_id: id })),
      set: (logger: Logger) => {
        child = logger;
      },
    });
    next();
  };
}

/**
 * nestjs-pino's request context, with the logger looked up when a line is written (PinoLogger reads
 * `store.logger` per call) instead of when the request starts, so the lazy `req.log` stays unbuilt for a
 * request that logs nothing.
 */
class LazyRequestStore {
  private assigned: Logger | undefined;

  constructor(private readonly req: RequestWithLogger) {}

  get logger(): Logger {
    return this.assigned ?? this.req.log;
  }

  /** `PinoLogger.assign()` replaces the request's logger with a child carrying more fields. */
  set logger(logger: Logger) {
    this.assigned = logger;
  }

  responseLogger: Logger | undefined = undefined;
}

export function bindRequestLoggerMiddleware(
  req: IncomingMessage,
  _res: ServerResponse,
  next: () => void,
): void {
  storage.run(new LazyRequestStore(req as RequestWithLogger), next);
}
