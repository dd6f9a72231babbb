import { trace } from '@opentelemetry/api';
import { inSpan, startTracing, tracingEnabled, tracingRequested } from '@agentauth/core';

/** Tracing is off unless the standard endpoint variable is set: then nothing of the SDK is even required. */
describe('tracing switch', () => {
  it('is requested only by a non-empty OTLP endpoint, and OTEL_SDK_DISABLED=true wins', () => {
    expect(tracingRequested({})).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBe(false);
    expect(tracingRequested({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' })).toBe(false);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://tempo:4318' })).toBe(true);
    expect(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4318/v1/traces' })).toBe(
      true,
    );
    expect(
      tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://tempo:4318', OTEL_SDK_DISABLED: 'TRUE' }),
    ).toBe(false);
  });

  it('requires no SDK package and registers nothing when off', () => {
    const load = jest.fn();
    expect(startTracing('agentauth-api', {}, load)).toBeUndefined();
    expect(startTracing('agentauth-api', { OTEL_EXPORTER_OTLP_ENDPOINT: '' }, load)).toBeUndefined();
    expect(load).not.toHaveBeenCalled();
    expect(tracingEnabled()).toBe(false);
    // The global tracer provider is still the API's no-op proxy with no SDK behind it.
    const provider = trace.getTracerProvider() as unknown as { getDelegate(): object };
    expect(provider.getDelegate().constructor.name).toBe('NoopTracerProvider');
  });

  it('runs a span body directly, with no span, when off', async () => {
    const seen: unknown[] = [];
    await expect(
      inSpan('x', { attributes: { a: 1 } }, async (span) => {
        seen.push(span, trace.getActiveSpan());
        return 42;
      }),
    ).resolves.toBe(42);
    expect(seen).toEqual([undefined, undefined]);
    await expect(inSpan('x', {}, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});
