import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { catchError, from, mergeMap, Observable, throwError } from 'rxjs';
import { ClientIpResolver, type Principal, requestIdOf, toProblem } from '@agentauth/core';
import { AUDITED, type AuditedMetadata, type AuditOutcome } from './audit-event';
import { auditContextOf } from './audit-context';
import { AuditService } from './audit.service';

function outcomeOf(error: unknown): AuditOutcome {
  const status = toProblem(error).status;
  return status === 403 || status === 404 ? 'denied' : 'failure';
}

/**
 * Records every `@Audited` route's outcome. The response (or the error) is released only after the
 * event is committed, so an acknowledged act is never missing from the trail.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
    private readonly clientIp: ClientIpResolver,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const meta = this.reflector.get<AuditedMetadata | undefined>(AUDITED, context.getHandler());
    if (!meta || context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const base = () => {
      const principal = req.principal;
      const onBehalfOf =
        principal && principal.subjectAgentId !== principal.actorAgentId ? principal.subjectAgentId : null;
      return {
        eventType: meta.eventType,
        actorAgentId: principal?.actorAgentId ?? null,
        onBehalfOf,
        rootAgentId: principal?.rootAgentId ?? null,
        targetType: meta.targetType,
        ip: this.clientIp.resolve(req),
        requestId: requestIdOf(req) ?? null,
      };
    };
    const paramTarget = () => {
      const value = meta.targetParam ? req.params?.[meta.targetParam] : req.params?.id;
      return typeof value === 'string' ? value : null;
    };
    return next.handle().pipe(
      mergeMap((body: unknown) =>
        from(
          (async () => {
            const bodyId = (body as { id?: unknown } | null)?.id;
            const handlerContext = auditContextOf(req);
            await this.audit.record({
              ...base(),
              outcome: 'success',
              targetId: paramTarget() ?? (typeof bodyId === 'string' ? bodyId : null),
              ...handlerContext,
            });
            return body;
          })(),
        ),
      ),
      catchError((error: unknown) =>
        from(
          this.audit.record({
            ...base(),
            outcome: outcomeOf(error),
            targetId: paramTarget(),
            details: { error: toProblem(error).code },
          }),
        ).pipe(mergeMap(() => throwError(() => error))),
      ),
    );
  }
}
