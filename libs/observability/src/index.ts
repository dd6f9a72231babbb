// The public surface of @agentauth/observability: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export { ObservabilityModule } from './observability.module';
export { MetricsModule } from './metrics.module';
export { Metrics } from './metrics.service';
export { METRIC } from './metric-names';
