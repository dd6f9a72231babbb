import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BoundedLabel, grantTypeLabel, methodLabel } from './bounded-label';
import { AUDIT_BATCH_BUCKETS, HTTP_DURATION_BUCKETS, METRIC } from './metric-names';

/** Depth (waiting + delayed jobs) per queue name, as a collector reports it at scrape time. */
export type QueueDepths = Record<string, number>;
export type QueueDepthCollector = () => QueueDepths | Promise<QueueDepths>;

/** Known values of the code-supplied labels; other codes are accepted up to a bound, then `other`. */
export type RateLimitKind = 'agent' | 'ip' | 'client_auth' | 'bootstrap' | (string & {});
export type AuthFailureReason =
  'invalid_client' | 'invalid_token' | 'invalid_grant' | 'admin_key' | 'metrics_token' | (string & {});

const COLLECTOR_TIMEOUT_MS = 2000;

let processRegistry: Registry | undefined;

/**
 * prom-client's default metrics (CPU, memory, event-loop lag, GC, handles) describe the process, not an
 * app instance: they are collected once per process, however many Nest apps it builds (tests build many).
 */
function processMetricsRegistry(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

function withTimeout<T>(value: T | Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    Promise.resolve(value).then(
      (result) => {
        clearTimeout(timer);
        resolve(result);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

interface HttpSeries {
  requests: Counter.Internal;
  duration: Histogram.Internal<'method' | 'route' | 'status'>;
}

/**
 * The application's Prometheus metrics. Other modules inject this service and call the typed helpers;
 * nobody touches prom-client directly, so names, labels and their bounds live in one place.
 * Labels never carry ids (agent, token, request): only route patterns, status codes and short codes.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  private readonly httpRequests = new Counter({
    name: METRIC.httpRequests,
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  private readonly httpDuration = new Histogram({
    name: METRIC.httpRequestDuration,
    help: 'HTTP request latency in seconds (first middleware to response finished), by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [this.registry],
  });

  private readonly tokensIssued = new Counter({
    name: METRIC.tokensIssued,
    help: 'Access tokens issued, by grant type (client_credentials, refresh_token, agent_delegation, token_exchange)',
    labelNames: ['grant_type'] as const,
    registers: [this.registry],
  });

  private readonly authFailures = new Counter({
    name: METRIC.authFailures,
    help: 'Failed authentications (client, bearer token, admin key, metrics token), by reason code',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly rateLimitRejections = new Counter({
    name: METRIC.rateLimitRejections,
    help: 'Requests rejected with 429 by a rate limiter, by limiter kind',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  private readonly rateLimitFailOpen = new Counter({
    name: METRIC.rateLimitFailOpen,
    help: 'Requests let through unchecked because the rate limiter could not reach Redis (fail open)',
    registers: [this.registry],
  });

  private readonly auditBatchSize = new Histogram({
    name: METRIC.auditBatchSize,
    help: 'Audit events written per group commit (the sum is the number of events written)',
    buckets: AUDIT_BATCH_BUCKETS,
    registers: [this.registry],
  });

  private readonly queueDepthCollectorErrors = new Counter({
    name: METRIC.queueDepthCollectorErrors,
    help: 'Queue depth collectors that failed or timed out during a scrape',
    registers: [this.registry],
  });

  private readonly queueDepthCollectors = new Set<QueueDepthCollector>();

  readonly queueDepth = new Gauge({
    name: METRIC.queueDepth,
    help: 'Jobs waiting or delayed per queue, read from the registered collectors at scrape time',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });

  private readonly reasons = new BoundedLabel(50, [
    'invalid_client',
    'invalid_token',
    'invalid_grant',
    'admin_key',
    'metrics_token',
  ]);
  private readonly rateLimitKinds = new BoundedLabel(20, ['agent', 'ip', 'client_auth', 'bootstrap']);
  private readonly queueNames = new BoundedLabel(50);
  private readonly httpSeries = new Map<string, HttpSeries>();

  /** One finished HTTP request (called for every request: a map lookup and two increments). */
  observeHttpRequest(method: string, route: string, status: number, durationMs: number): void {
    const methodValue = methodLabel(method);
    const key = `${methodValue} ${status} ${route}`;
    let series = this.httpSeries.get(key);
    if (!series) {
      const labels = { method: methodValue, route, status: String(status) };
      series = { requests: this.httpRequests.labels(labels), duration: this.httpDuration.labels(labels) };
      this.httpSeries.set(key, series);
    }
    series.requests.inc();
    series.duration.observe(durationMs / 1000);
  }

  /** An access token was issued (`grant_type` as the client sent it; URNs map to their short names). */
  tokenIssued(grantType: string): void {
    this.tokensIssued.inc({ grant_type: grantTypeLabel(grantType) });
  }

  /** An authentication attempt failed; `reason` is a short code such as `invalid_client`. */
  authFailure(reason: AuthFailureReason): void {
    this.authFailures.inc({ reason: this.reasons.value(reason) });
  }

  /** A rate limiter answered 429; `kind` names the limiter (`agent`, `ip`, `client_auth`, `bootstrap`). */
  rateLimitRejected(kind: RateLimitKind): void {
    this.rateLimitRejections.inc({ kind: this.rateLimitKinds.value(kind) });
  }

  /** A request was let through unchecked: the rate limiter could not ask Redis (it fails open). */
  rateLimitFailedOpen(): void {
    this.rateLimitFailOpen.inc();
  }

  /** One audit group commit wrote `size` events. */
  auditBatch(size: number): void {
    if (Number.isFinite(size) && size >= 0) this.auditBatchSize.observe(size);
  }

  /**
   * Registers a function that reports queue depths when Prometheus scrapes (e.g. BullMQ's
   * `getJobCounts('waiting', 'delayed')` per queue). Returns the function that unregisters it.
   */
  registerQueueDepthCollector(collector: QueueDepthCollector): () => void {
    this.queueDepthCollectors.add(collector);
    return () => {
      this.queueDepthCollectors.delete(collector);
    };
  }

  /** The Prometheus text exposition of the process metrics and this app's metrics. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    // Collected before serializing (not in a prom-client `collect` hook, which runs concurrently with the
    // other metrics' serialization) so the failure counter of this very scrape is already in its output.
    await this.collectQueueDepths();
    const [process, app] = await Promise.all([processMetricsRegistry().metrics(), this.registry.metrics()]);
    return { contentType: this.registry.contentType, body: `${process.trimEnd()}\n\n${app}` };
  }

  private async collectQueueDepths(): Promise<void> {
    const results = await Promise.allSettled(
      [...this.queueDepthCollectors].map((collector) => withTimeout(collector(), COLLECTOR_TIMEOUT_MS)),
    );
    // A queue that no collector reports any more disappears instead of keeping its last value.
    this.queueDepth.reset();
    for (const result of results) {
      if (result.status === 'rejected') {
        this.queueDepthCollectorErrors.inc();
        continue;
      }
      for (const [queue, depth] of Object.entries(result.value)) {
        if (Number.isFinite(depth)) this.queueDepth.set({ queue: this.queueNames.value(queue) }, depth);
      }
    }
  }
}
