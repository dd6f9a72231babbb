import { type Attributes, type Link, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * Custom spans for the steps an operator asks about when a token request is slow (client authentication,
 * argon2, the grant, policy evaluation, the audit group commit, revocation checks). Attributes are ids,
 * counts, names and outcomes only: never a secret, token, key, hash or request body (a test exports every
 * attribute of a token request and searches it for the raw key and the token).
 *
 * Tracing is off unless `startTracing` (./tracing.ts) started the SDK: then `inSpan` calls its function at
 * once, with no span, and nothing else (no tracer, no context switch).
 */
const TRACER_NAME = 'agentauth';
let enabled = false;

/** Called once by `startTracing` after the SDK is registered. */
export function markTracingEnabled(): void {
  enabled = true;
}

export function tracingEnabled(): boolean {
  return enabled;
}

export interface SpanOptions {
  attributes?: Attributes;
  /** Spans of other traces this one serves (the audit batch links the records it commits). */
  links?: Link[];
}

/**
 * Runs `fn` inside a new active span `name` (a child of the current one). The span ends when `fn` settles;
 * a thrown error marks it as failed with the error's class name (not its message, which might quote input).
 */
export function inSpan<T>(name: string, options: SpanOptions, fn: (span?: Span) => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  return trace
    .getTracer(TRACER_NAME)
    .startActiveSpan(name, { attributes: options.attributes, links: options.links }, async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.name : 'error',
        });
        throw error;
      } finally {
        span.end();
      }
    });
}

/** Sets attributes on the span `inSpan` gave (a no-op without one). */
export function setSpanAttributes(span: Span | undefined, attributes: Attributes): void {
  if (span) span.setAttributes(attributes);
}

/** The active span's context, to link to later (undefined while tracing is off). */
export function activeSpanLink(): Link | undefined {
  if (!enabled) return undefined;
  const span = trace.getActiveSpan();
  return span ? { context: span.spanContext() } : undefined;
}
