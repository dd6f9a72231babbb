import { Global, Module } from '@nestjs/common';
import { Metrics } from './metrics.service';

/**
 * The `Metrics` service alone, global so every context can inject it (`tokenIssued`, `authFailure`, ...)
 * without importing anything but the class. Processes without an HTTP server (the worker) import this
 * module so services that count things still resolve; the API imports `ObservabilityModule`.
 */
@Global()
@Module({
  providers: [Metrics],
  exports: [Metrics],
})
export class MetricsModule {}
