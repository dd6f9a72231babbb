import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { Clock, ServiceUnavailableProblem } from '@agentauth/core';
import { AuditRepository } from './audit.repository';
import { StatsRegistry } from './stats.registry';

const COLLECT_TIMEOUT_MS = 5000;
const DAY_MS = 24 * 3600 * 1000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** `GET /stats`: every registered section, collected in parallel, plus the audit trail's own counts. */
@Injectable()
export class StatsService {
  constructor(
    private readonly registry: StatsRegistry,
    private readonly repository: AuditRepository,
    private readonly clock: Clock,
    private readonly logger: PinoLogger,
  ) {
    this.logger.setContext('StatsService');
  }

  async collect(): Promise<Record<string, unknown>> {
    const now = this.clock.now();
    const contributors = this.registry.all();
    const [audit, ...sections] = await Promise.allSettled([
      withTimeout(this.repository.counts(new Date(now.getTime() - DAY_MS)), COLLECT_TIMEOUT_MS),
      ...contributors.map((c) => withTimeout(c.collect(), COLLECT_TIMEOUT_MS)),
    ]);
    const failed: string[] = [];
    const response: Record<string, unknown> = { generated_at: now.toISOString() };
    sections.forEach((result, i) => {
      if (result.status === 'fulfilled') response[contributors[i].name] = result.value;
      else failed.push(contributors[i].name);
    });
    if (audit.status === 'fulfilled') {
      response.audit_events = { total: audit.value.total, last_24h: audit.value.sinceCount };
    } else failed.push('audit_events');
    if (failed.length > 0) {
      this.logger.error({ sections: failed }, 'stats sections failed');
      // Monitoring must not read a partial answer as the truth.
      throw new ServiceUnavailableProblem(`Statistics are unavailable (${failed.join(', ')})`);
    }
    return response;
  }
}
