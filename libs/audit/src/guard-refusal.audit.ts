import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  ClientIpResolver,
  type GuardRefusal,
  type RefusalAudit,
  type RefusalSite,
  requestIdOf,
  routePatternOf,
} from '@agentauth/core';
import { AUDITED, type AuditedMetadata } from './audit-event';
import { AuditService } from './audit.service';

/** The event type of an authorization refusal on a route that is not `@Audited` (reads, mostly). */
export const AUTHORIZATION_DENIED_EVENT = 'authorization.denied';

/**
 * The authentication guard's `RefusalAudit`: the refusals the guard answers before the audit interceptor
 * could see them, recorded through AuditService (awaited: the refusal is answered once its event is
 * committed, like every audited act).
 * - failed authentication (401) → one `client_auth.failed` (`failure`), details `{reason, cause, route}`:
 *   `reason` = `bearer_required` | `invalid_token` | `admin_key` (never the presented credential);
 * - insufficient scope (403) → one `denied` event: the route's `@Audited` event type (so `agent.created`
 *   lists every refused creation, at the guard or in the handler, alike) with its target, else
 *   `authorization.denied`; details `{error: 'insufficient_scope', missing_scopes, route}`.
 */
@Injectable()
export class GuardRefusalAudit implements RefusalAudit {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
    private readonly clientIp: ClientIpResolver,
  ) {}

  async record({ req, handler }: RefusalSite, refusal: GuardRefusal): Promise<void> {
    const where = {
      ip: this.clientIp.resolve(req),
      requestId: requestIdOf(req) ?? null,
    };
    const route = `${req.method} ${routePatternOf(req)}`;
    if (refusal.kind === 'authentication') {
      await this.audit.record({
        eventType: 'client_auth.failed',
        outcome: 'failure',
        ...where,
        details: { reason: refusal.reason, cause: refusal.cause, route, ...refusal.details },
      });
      return;
    }
    const { principal } = refusal;
    const meta = handler ? this.reflector.get<AuditedMetadata | undefined>(AUDITED, handler) : undefined;
    const param = meta ? req.params?.[meta.targetParam ?? 'id'] : undefined;
    await this.audit.record({
      eventType: meta?.eventType ?? AUTHORIZATION_DENIED_EVENT,
      outcome: 'denied',
      actorAgentId: principal.actorAgentId,
      onBehalfOf: principal.subjectAgentId !== principal.actorAgentId ? principal.subjectAgentId : null,
      rootAgentId: principal.rootAgentId,
      targetType: meta?.targetType ?? null,
      targetId: typeof param === 'string' ? param : null,
      ...where,
      details: { error: 'insufficient_scope', missing_scopes: [...refusal.missingScopes], route },
    });
  }
}
