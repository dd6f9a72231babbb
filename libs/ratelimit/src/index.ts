// The public surface of @agentauth/ratelimit: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export {
  agentBucket,
  bucketKeys,
  bucketKind,
  expandIpv6,
  ipBucket,
  ipSubject,
  isValidBucket,
  MINUTE_MS,
  namedAgentBucket,
  namedIpBucket,
} from './buckets';
export {
  ceilSeconds,
  decodeScriptReply,
  failedOpenOutcome,
  rateLimitHeaders,
  type RateLimitSpec,
} from './rate-limit-decision';
export {
  NoRateLimitOverrides,
  OVERRIDE_CACHE_TTL_MS,
  RATE_LIMIT_OVERRIDES,
  type RateLimitOverrides,
} from './rate-limit-overrides';
export { BootstrapRateLimit, ClientAuthRateLimit, RateLimit } from './rate-limit.decorators';
export { RateLimitGuard } from './rate-limit.guard';
export { oauthRateLimitBody, RateLimitedError } from './rate-limited.error';
export {
  FAIL_OPEN_LOG_INTERVAL_MS,
  RateLimiterService,
  type RateLimitRejection,
} from './rate-limiter.service';
export { RateLimitModule } from './ratelimit.module';
export { SLIDING_WINDOW_LUA } from './sliding-window.script';
