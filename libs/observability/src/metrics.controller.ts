import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '@agentauth/core';
import { MetricsAccess } from './metrics-access.service';
import { Metrics } from './metrics.service';

/**
 * Prometheus scrape endpoint, outside the API prefix (excluded in configureApiApp) and never rate limited.
 * `@Public()` for the global guard: its own check is the optional `METRICS_TOKEN` bearer token.
 */
@ApiTags('observability')
@ApiBearerAuth('bearer')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    private readonly access: MetricsAccess,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics (text exposition format); needs Bearer METRICS_TOKEN when configured',
  })
  @ApiProduces('text/plain')
  @ApiResponse({ status: 200, description: 'Prometheus text format 0.0.4' })
  @ApiResponse({ status: 401, description: 'METRICS_TOKEN is set and the request did not present it' })
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    this.access.assertMayScrape(req);
    const { contentType, body } = await this.metrics.scrape();
    // `end`, not `send`: Express would rewrite the content type's parameters.
    res.status(200).setHeader('Content-Type', contentType).setHeader('Cache-Control', 'no-store').end(body);
  }
}
