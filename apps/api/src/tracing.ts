// The first import of main.ts: OpenTelemetry must patch http, express, pg, ioredis and pino before anything
// requires them. A no-op unless OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/observability.md). A relative path,
// not '@agentauth/core': the core index would load those modules before the SDK could patch them.
import { startTracing } from '../../../libs/core/src/tracing/tracing';

startTracing('agentauth-api');
