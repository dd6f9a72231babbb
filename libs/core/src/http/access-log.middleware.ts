import type { NextFunction, Request, Response } from 'express';
import type { Logger as PinoBaseLogger } from 'pino';
import type { RequestWithContext } from './request-context';

/**
 * One access-log line per request, written when the response finishes, with the fields the dashboards
 * query: method, route (the matched pattern, never the raw path with ids), status, duration_ms, agent_id.
 */
export function accessLogMiddleware(fallbackLogger: PinoBaseLogger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const request = req as RequestWithContext & { log?: PinoBaseLogger };
      const routePath = (req.route as { path?: unknown } | undefined)?.path;
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const logger = request.log ?? fallbackLogger;
      const matched = typeof routePath === 'string' ? `${request.baseUrl ?? ''}${routePath}` : undefined;
      // Nest answers unknown paths from a catch-all route; that is not a route anyone should graph.
      const route = matched && !matched.includes('*') ? matched : 'unmatched';
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
    });
    next();
  };
}
