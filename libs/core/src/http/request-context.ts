import type { Request } from 'express';

/** What the authentication layer attaches to a request (read by logging, rate limits and audit). */
export interface RequestWithContext extends Request {
  /** The authenticated actor (`client_id` of the token), once authentication ran. */
  agentId?: string;
}

export function requestIdOf(req: Request): string | undefined {
  const id: unknown = (req as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The matched route pattern of a request (`/api/v1/agents/:id`), or `unmatched`: what logs and metrics
 * label requests with, so a raw path with ids never becomes a label.
 */
export function routePatternOf(req: Request): string {
  const routePath = (req.route as { path?: unknown } | undefined)?.path;
  const matched = typeof routePath === 'string' ? `${req.baseUrl ?? ''}${routePath}` : undefined;
  // Nest answers unknown paths from a catch-all route; that is not a route anyone should graph.
  return matched && !matched.includes('*') ? matched : 'unmatched';
}
