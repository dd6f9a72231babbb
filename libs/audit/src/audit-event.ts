import type { Principal } from '@agentauth/core';

export type AuditOutcome = 'success' | 'failure' | 'denied';

/** One security-relevant act (CONTRACT §7). Never a secret, hash or token in `details`. */
export interface AuditEventInput {
  eventType: string;
  outcome: AuditOutcome;
  actorAgentId?: string | null;
  onBehalfOf?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  rootAgentId?: string | null;
  ip?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

/**
 * The request an act came from, for the events a service records itself beside its route's own event
 * (a cascade's, docs/audit.md "Cascades"): they carry the same `ip` and `request_id`.
 */
export interface AuditOrigin {
  ip?: string | null;
  requestId?: string | null;
}

/**
 * Who acted, for whom and in which tree: the token's `client_id`, its `sub` when it differs (delegated or
 * exchanged tokens), its root. Every event of a request names the principal this way.
 */
export function principalAuditFields(
  principal: Principal | undefined,
): Pick<AuditEventInput, 'actorAgentId' | 'onBehalfOf' | 'rootAgentId'> {
  return {
    actorAgentId: principal?.actorAgentId ?? null,
    onBehalfOf:
      principal && principal.subjectAgentId !== principal.actorAgentId ? principal.subjectAgentId : null,
    rootAgentId: principal?.rootAgentId ?? null,
  };
}

/** What every event of a request shares, for the events a service records itself: principal, IP, request id. */
export function requestAuditFields(
  principal: Principal,
  origin: AuditOrigin,
): Pick<AuditEventInput, 'actorAgentId' | 'onBehalfOf' | 'rootAgentId' | 'ip' | 'requestId'> {
  return { ...principalAuditFields(principal), ip: origin.ip ?? null, requestId: origin.requestId ?? null };
}

export interface AuditedOptions {
  /** What the route acts on (`agent`, `credential`, …). */
  targetType: string;
  /** Where the target id is found: a route param name, else the response body's `id`. */
  targetParam?: string;
}

export const AUDITED = 'agentauth:audited';

export interface AuditedMetadata extends AuditedOptions {
  eventType: string;
}

/** What a handler may add to (or correct in) the event its `@Audited` route records. */
export type AuditAnnotation = Partial<
  Pick<AuditEventInput, 'actorAgentId' | 'onBehalfOf' | 'rootAgentId' | 'targetId' | 'details'>
>;

const AUDIT_ANNOTATION = Symbol('agentauth:audit-annotation');

/**
 * Lets an `@Audited` handler add details or fill fields the interceptor cannot know (e.g. the root of an
 * agent created by bootstrap, which has no principal). Later calls override earlier ones; `details` merge.
 * The annotation is used whatever the outcome.
 */
export function annotateAudit(req: object, patch: AuditAnnotation): void {
  const holder = req as { [AUDIT_ANNOTATION]?: AuditAnnotation };
  const current = holder[AUDIT_ANNOTATION] ?? {};
  holder[AUDIT_ANNOTATION] = {
    ...current,
    ...patch,
    ...(patch.details || current.details ? { details: { ...current.details, ...patch.details } } : {}),
  };
}

/** The annotation an `@Audited` handler left on its request (read by the interceptor). */
export function auditAnnotationOf(req: object): AuditAnnotation {
  return (req as { [AUDIT_ANNOTATION]?: AuditAnnotation })[AUDIT_ANNOTATION] ?? {};
}
