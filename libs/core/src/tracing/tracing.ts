import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Span } from '@opentelemetry/api';
import { markTracingEnabled } from './spans';

/**
 * OpenTelemetry traces, OFF unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
 * is set to a non-empty value and `OTEL_SDK_DISABLED` is not `true`. Off means: none of the SDK, exporter or
 * instrumentation packages is even required, no module is patched, and `inSpan` runs its function directly
 * (test/unit/core/tracing.spec.ts). On, it must run before anything else is required (the instrumentations
 * patch `http`, `express`, `pg`, `ioredis` and `pino` as they load): `apps/api/src/tracing.ts` and
 * `apps/worker/src/tracing.ts` are the first import of each main.
 *
 * Only the standard variables configure it (the SDK reads them): OTEL_EXPORTER_OTLP_ENDPOINT / _HEADERS /
 * _PROTOCOL (default http/protobuf), OTEL_SERVICE_NAME (default agentauth-api / agentauth-worker),
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER / _ARG, OTEL_BSP_*. Traces only: metrics stay on
 * /metrics (Prometheus) and logs on stdout (Loki), so the SDK's metric and log exporters are not started.
 */
export interface TracingHandle {
  /** Flushes pending spans and stops exporting. */
  shutdown(): Promise<void>;
}

type Loader = (id: string) => unknown;

/** Paths whose server spans are not worth keeping (probes and scrapes, every few seconds). */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics']);

export function tracingRequested(env: Record<string, string | undefined>): boolean {
  const endpoint =
    (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').trim() || (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? '').trim();
  return endpoint !== '' && (env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() !== 'true';
}

export function startTracing(
  serviceName: string,
  env: Record<string, string | undefined> = process.env,
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when tracing is on
  load: Loader = (id) => require(id),
): TracingHandle | undefined {
  if (!tracingRequested(env)) return undefined;
  // The SDK packages are required lazily (never while tracing is off), typed by their declarations.
  const { NodeSDK } = load('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } = load(
    '@opentelemetry/instrumentation-http',
  ) as typeof import('@opentelemetry/instrumentation-http');
  const { ExpressInstrumentation, ExpressLayerType } = load(
    '@opentelemetry/instrumentation-express',
  ) as typeof import('@opentelemetry/instrumentation-express');
  const { PgInstrumentation } = load(
    '@opentelemetry/instrumentation-pg',
  ) as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } = load(
    '@opentelemetry/instrumentation-ioredis',
  ) as typeof import('@opentelemetry/instrumentation-ioredis');
  const { PinoInstrumentation } = load(
    '@opentelemetry/instrumentation-pino',
  ) as typeof import('@opentelemetry/instrumentation-pino');

  const sdk = new NodeSDK({
    serviceName: (env.OTEL_SERVICE_NAME ?? '').trim() || serviceName,
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req: IncomingMessage) =>
          UNTRACED_PATHS.has((req.url ?? '').split('?')[0]),
        // The request id the app answered with (X-Request-ID) on the server span: the key to its log lines.
        applyCustomAttributesOnSpan: (
          span: Span,
          _request: ClientRequest | IncomingMessage,
          response: IncomingMessage | ServerResponse,
        ) => {
          if (!('getHeader' in response)) return;
          const id = response.getHeader('x-request-id');
          if (typeof id === 'string') span.setAttribute('agentauth.request_id', id);
        },
      }),
      // The route handler's span only: a span per middleware (helmet, cors, body parsers, request ids, ...)
      // would be most of every trace and of its export cost, and says nothing the server span does not.
      new ExpressInstrumentation({
        ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER],
      }),
      // SQL text with $n placeholders only: parameter values (hashes, ids) are never attributes.
      // Pool check-outs are not spans either (the query spans show the time), and queries outside a
      // request or job (start-up, background timers) are not traced.
      new PgInstrumentation({
        enhancedDatabaseReporting: false,
        ignoreConnectSpans: true,
        requireParentSpan: true,
      }),
      // The command name only: Redis keys and arguments (cache keys, counters) stay out of the spans.
      new IORedisInstrumentation({ dbStatementSerializer: (command: string) => command }),
      // trace_id, span_id and trace_flags in every log line written while a span is active.
      new PinoInstrumentation({ disableLogSending: true }),
    ],
  });
  sdk.start();
  markTracingEnabled();
  return { shutdown: () => sdk.shutdown() };
}
