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
