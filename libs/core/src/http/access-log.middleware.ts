import type { NextFunction, Request, Response } from 'express';
import type { Logger as PinoBaseLogger } from 'pino';
import { routePatternOf, type RequestWithContext } from './request-context';
import type { RequestObservers } from './request-observers';

/**
 * One access-log line per request, written when the response finishes, with the fields the dashboards
 * query: method, route (the matched pattern, never the raw path with ids), status, duration_ms, agent_id.
 */
export function accessLogMiddleware(fallbackLogger: PinoBaseLogger, observers?: RequestObservers) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const request = req as RequestWithContext & { log?: PinoBaseLogger };
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const route = routePatternOf(req);
      const status = res.statusCode;
      const level = status >= 500 ? 'error' : 'info';
      // The request's logger (`req.log`) is built on first use: below the configured level (e.g.
      // LOG_LEVEL=warn) neither it nor the line's fields are made. Its level is the root's.
      if (fallbackLogger.isLevelEnabled(level)) {
        const fields = {
          method: req.method,
          route,
          status,
          duration_ms: Math.round(durationMs * 1000) / 1000,
          agent_id: request.agentId ?? null,
        };
        (request.log ?? fallbackLogger)[level](fields, 'request completed');
      }
      observers?.notify({ method: req.method, route, status, durationMs, req, res });
    });
    next();
  };
}
