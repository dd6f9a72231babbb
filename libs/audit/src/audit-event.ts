import { SetMetadata } from '@nestjs/common';

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

/**
 * Marks a route whose act is audited: the interceptor records success, failure or denied, and the response
 * is sent only after the event is committed.
 */
export const Audited = (eventType: string, options: AuditedOptions): MethodDecorator =>
  SetMetadata(AUDITED, { eventType, ...options } satisfies AuditedMetadata);
