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
      const logger = request.log ?? fallbackLogger;
      const route = routePatternOf(req);
      const status = res.statusCode;
      const fields = {
        method: req.method,
        route,
        status,
        duration_ms: Math.round(durationMs * 1000) / 1000,
        agent_id: request.agentId ?? null,
      };
      if (status >= 500) logger.error(fields, 'request completed');
      else logger.info(fields, 'request completed');
      observers?.notify({ method: req.method, route, status, durationMs, req, res });
    });
    next();
  };
}
