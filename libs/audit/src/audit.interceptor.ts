import {
  applyDecorators,
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { catchError, from, mergeMap, Observable } from 'rxjs';
import {
  ClientIpResolver,
  type Principal,
  requestIdOf,
  RouteMetadataCache,
  toProblem,
} from '@agentauth/core';
import {
  AUDITED,
  auditAnnotationOf,
  type AuditedMetadata,
  type AuditedOptions,
  type AuditEventInput,
  type AuditOutcome,
  principalAuditFields,
} from './audit-event';
import { AuditService } from './audit.service';

/** 403 and 404 (refused, or not visible to the caller) are `denied`; every other error is `failure`. */
export function outcomeOf(error: unknown): AuditOutcome {
  const status = toProblem(error).status;
  return status === 403 || status === 404 ? 'denied' : 'failure';
}

/**
 * Records every `@Audited` route's outcome: exactly one event per request. The response (or the error)
 * is released only after the event is committed; when the event cannot be committed the request fails
 * with 503, so an act is never acknowledged without its event.
 *
 * Guards run before interceptors: a request refused by the authentication guard (401, insufficient
 * scope) never reaches this interceptor — the guard records it through `GuardRefusalAudit` (one event, the
 * route's `@Audited` type for an insufficient scope), so each request still leaves exactly one event.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  /** Each handler's `@Audited` metadata, read on its first request. */
  private readonly routes = new RouteMetadataCache(([handler]) =>
    this.reflector.get<AuditedMetadata | undefined>(AUDITED, handler),
  );

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
    private readonly clientIp: ClientIpResolver,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const meta = this.routes.of(context);
    if (!meta || context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<Request & { principal?: Principal }>();

    const event = (outcome: AuditOutcome, bodyId: string | null, details: Record<string, unknown>) => {
      const principal = req.principal;
      const annotation = auditAnnotationOf(req);
      const param = req.params?.[meta.targetParam ?? 'id'];
      const input: AuditEventInput = {
        eventType: meta.eventType,
        outcome,
        ...principalAuditFields(principal),
        targetType: meta.targetType,
        targetId: typeof param === 'string' ? param : bodyId,
        ip: this.clientIp.resolve(req),
        requestId: requestIdOf(req) ?? null,
        ...annotation,
        details: { ...details, ...annotation.details },
      };
      return input;
    };

    return next.handle().pipe(
      // Errors of the handler (and of the pipes before it): record the refusal, then let the error through.
      catchError((error: unknown) =>
        from(
          (async () => {
            await this.audit.record(event(outcomeOf(error), null, { error: toProblem(error).code }));
            throw error;
          })(),
        ),
      ),
      // Success: the body goes out only once its event is committed (record rejects with 503 otherwise).
      mergeMap((body: unknown) =>
        from(
          (async () => {
            const bodyId = (body as { id?: unknown } | null | undefined)?.id;
            await this.audit.record(event('success', typeof bodyId === 'string' ? bodyId : null, {}));
            return body;
          })(),
        ),
      ),
    );
  }
}

/**
 * Marks a route whose act is audited: the interceptor records success, failure or denied, and the response
 * is sent only after the event is committed. The interceptor is bound to the audited routes only (not
 * global): every other route runs with no interceptor at all, so Nest skips its interceptor chain (two
 * `AsyncResource.bind` and an rxjs pipeline per request; docs/performance.md, "Cost ledger").
 */
export const Audited = (eventType: string, options: AuditedOptions): MethodDecorator =>
  applyDecorators(
    SetMetadata(AUDITED, { eventType, ...options } satisfies AuditedMetadata),
    UseInterceptors(AuditInterceptor),
  );
