/**
 * Every metric AgentAuth exports (besides prom-client's default `process_*` / `nodejs_*` metrics).
 * docs/deployment.md lists them; the dashboard's Prometheus panels use exactly these names (a test checks).
 */
export const METRIC = {
  httpRequests: 'agentauth_http_requests_total',
  httpRequestDuration: 'agentauth_http_request_duration_seconds',
  tokensIssued: 'agentauth_tokens_issued_total',
  authFailures: 'agentauth_auth_failures_total',
  rateLimitRejections: 'agentauth_rate_limit_rejections_total',
  rateLimitFailOpen: 'agentauth_rate_limit_fail_open_total',
  auditBatchSize: 'agentauth_audit_batch_size',
  queueDepth: 'agentauth_queue_depth',
  queueDepthCollectorErrors: 'agentauth_queue_depth_collector_errors_total',
} as const;

/** Latency buckets in seconds: sub-millisecond reads up to argon2-bound token requests and slow queries. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Events per audit group commit. */
export const AUDIT_BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
