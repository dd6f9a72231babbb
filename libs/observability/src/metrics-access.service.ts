import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import {
  APP_CONFIG,
  type AppConfig,
  bearerCredential,
  constantTimeEqual,
  UnauthorizedProblem,
} from '@agentauth/core';
import { Metrics } from './metrics.service';

/**
 * Who may scrape `/metrics`: anyone when `METRICS_TOKEN` is unset (the port is private to the
 * deployment's network), otherwise only `Authorization: Bearer <METRICS_TOKEN>`, compared in constant time.
 */
@Injectable()
export class MetricsAccess {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  assertMayScrape(req: Request): void {
    const expected = this.config.metricsToken;
    if (!expected) return;
    const presented = bearerCredential(req);
    if (presented === undefined || !constantTimeEqual(presented, expected)) {
      this.metrics.authFailure('metrics_token');
      throw new UnauthorizedProblem(
        'A valid metrics token is required (Authorization: Bearer <METRICS_TOKEN>)',
        'metrics_token_required',
        'Bearer realm="metrics"',
      );
    }
  }
}
