import { randomUUID } from 'node:crypto';
import {
  Body,
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  Module,
  type OnModuleInit,
  Param,
  Post,
  Req,
  UseGuards,
} from '@nestjs/common';
import type { Request } from 'express';
import { IsString, MinLength } from 'class-validator';
import { annotateAudit, Audited, StatsRegistry } from '@agentauth/audit';
import { ForbiddenProblem, NotFoundProblem, type Principal, Public } from '@agentauth/core';

/**
 * Test-only routes that exercise the audit interceptor before the real audited contexts exist.
 * A principal is taken from `X-Probe-Actor` / `X-Probe-Subject` / `X-Probe-Root` (never in production).
 */
@Injectable()
export class ProbePrincipalGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const actor = header('x-probe-actor');
    if (actor) {
      req.principal = {
        actorAgentId: actor,
        subjectAgentId: header('x-probe-subject') ?? actor,
        rootAgentId: header('x-probe-root') ?? actor,
        scopes: [],
      };
    }
    return true;
  }
}

export class ProbeThingDto {
  @IsString()
  @MinLength(1)
  name!: string;
}

@Public()
@UseGuards(ProbePrincipalGuard)
@Controller('audit-probe')
export class AuditProbeController {
  @Post('things')
  @Audited('probe.created', { targetType: 'probe' })
  create(@Body() body: ProbeThingDto) {
    return { id: randomUUID(), name: body.name };
  }

  @Post('things/:id/forbidden')
  @Audited('probe.forbidden', { targetType: 'probe' })
  forbidden(@Param('id') _id: string): never {
    throw new ForbiddenProblem('The probe refuses');
  }

  @Get('things/:id')
  @Audited('probe.read', { targetType: 'probe' })
  missing(@Param('id') _id: string): never {
    throw new NotFoundProblem('probe');
  }

  @Post('crash')
  @Audited('probe.crashed', { targetType: 'probe' })
  crash(): never {
    throw new Error('the probe crashed on purpose');
  }

  @Post('things/:thingId/annotated')
  @Audited('probe.annotated', { targetType: 'probe', targetParam: 'thingId' })
  annotated(@Req() req: Request, @Body() body: Record<string, unknown>) {
    annotateAudit(req, { details: body });
    return { ok: true };
  }

  @Get('unaudited')
  unaudited() {
    return { ok: true };
  }
}

@Module({ controllers: [AuditProbeController], providers: [ProbePrincipalGuard] })
export class AuditProbeModule {}

/** Contributes a `probe` section to `GET /stats`, as the real contexts do in their `onModuleInit`. */
@Injectable()
class ProbeStatsContributor implements OnModuleInit {
  constructor(private readonly stats: StatsRegistry) {}
  onModuleInit(): void {
    this.stats.register({
      name: 'probe',
      collect: () => Promise.resolve({ total: 42, by_status: { ok: 42 } }),
    });
  }
}

@Module({ providers: [ProbeStatsContributor] })
export class ProbeStatsModule {}

@Injectable()
class FailingStatsContributor implements OnModuleInit {
  constructor(private readonly stats: StatsRegistry) {}
  onModuleInit(): void {
    this.stats.register({ name: 'broken', collect: () => Promise.reject(new Error('counting failed')) });
  }
}

@Module({ providers: [FailingStatsContributor] })
export class FailingStatsModule {}
