import type { Request } from 'express';

/**
 * What a handler knows about its audited act that the interceptor cannot see: the target created by the
 * request, the actor/root when no principal authenticated it (bootstrap), and non-secret details (a
 * cascade's size, a new status). Never a secret, hash or token.
 */
export interface AuditContext {
  targetId?: string | null;
  actorAgentId?: string | null;
  rootAgentId?: string | null;
  details?: Record<string, unknown>;
}

const AUDIT_CONTEXT = Symbol('agentauth:audit-context');

type RequestWithAuditContext = Request & { [AUDIT_CONTEXT]?: AuditContext };

/** Adds to the request's audit context (details are merged). */
export function setAuditContext(req: Request, context: AuditContext): void {
  const r = req as RequestWithAuditContext;
  const previous = r[AUDIT_CONTEXT] ?? {};
  r[AUDIT_CONTEXT] = {
    ...previous,
    ...context,
    details: { ...(previous.details ?? {}), ...(context.details ?? {}) },
  };
}

export function auditContextOf(req: Request): AuditContext {
  return (req as RequestWithAuditContext)[AUDIT_CONTEXT] ?? {};
}
