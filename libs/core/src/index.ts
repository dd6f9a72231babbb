// The public surface of @agentauth/core: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export {
  APP_CONFIG,
  type AppConfig,
  ConfigValidationError,
  databaseUrlsFromEnvironment,
  exampleSecretWarnings,
  loadConfig,
  readEnvironment,
} from './config/app-config';
export { ConfigModule } from './config/config.module';
export { managementResourceIdentifier, protectedResourceMetadataUrl } from './config/management-resource';
export { Clock } from './clock/clock';
export { CoreModule } from './core.module';
export {
  DEFAULT_DATABASE_APP_ROLE,
  enableAppRoleLogin,
  PrivilegedDatabaseLoginError,
  sessionPrivileges,
} from './database/app-role';
export { buildDataSourceOptions } from './database/data-source-options';
export { AfterCommit } from './database/after-commit';
export { PG_UNIQUE_VIOLATION, pgErrorCode } from './database/pg-errors';
export {
  BadRequestProblem,
  ConflictProblem,
  type FieldError,
  ForbiddenProblem,
  NotFoundProblem,
  Problem,
  ScopeEscalationProblem,
  ServiceUnavailableProblem,
  TooManyRequestsProblem,
  UnauthorizedProblem,
  ValidationProblem,
} from './errors/problems';
export { sendOAuthError, sendProblem, toProblem } from './errors/problem-details.filter';
export { HealthModule } from './health/health.module';
export { ReadinessRegistry } from './health/readiness.registry';
export { ClientIpResolver } from './http/client-ip';
export {
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  fetchKeysetPage,
  type Keyset,
  type Page,
  PageQuery,
  toPage,
} from './http/pagination';
export { UuidParamPipe } from './http/uuid-param.pipe';
export { isLowerCaseUuid, isUuid } from './validation/uuid';
export {
  HasNoNul,
  IsJsonObject,
  IsOptionalNotNull,
  IsScopeName,
  IsTimestamp,
  IsUuidString,
  MAX_METADATA_BYTES,
  parseTimestamp,
} from './validation/validators';
export { apiCorsOptions, configureApiApp, FORM_ENCODED_PATHS } from './http/configure-app';
export { installLeanJsonReply, PreserializedJson } from './http/lean-json-adapter';
export { OAUTH_API_TAG, OPENAPI_TAGS } from './http/openapi-document';
export { requestIdOf, routePatternOf } from './http/request-context';
export { RequestObservers } from './http/request-observers';
export { RouteMetadataCache } from './http/route-metadata';
export { IS_PUBLIC, Public } from './auth-metadata/public.decorator';
export { createRootLogger, createScriptLogger, setLogDestination } from './logging/logger-options';
export { routeConsoleTo } from './logging/console-route';
export { FRAMEWORK_NARRATION_CONTEXTS, QuietFrameworkLogger } from './logging/framework-logger';
export { LoggingModule, ROOT_LOGGER } from './logging/logging.module';
export { CidrSet, clientIpFrom, isValidCidr, normalizeIp } from './net/ip';
export { RedisModule, redisOptions } from './redis/redis.module';
export { InvalidationBus, type InvalidationListener } from './redis/invalidation-bus';
export { ActionableStartupError, describeStartupFailure, writeFatalStartupError } from './logging/fatal';
export {
  ADMIN_ONLY,
  AdminOnly,
  Auth,
  AUTH_REQUIREMENT,
  type AuthRequirement,
} from './auth-metadata/auth.decorator';
export { accessTokenCredential, AuthGuard, bearerCredential } from './auth-metadata/auth.guard';
export {
  type AccessTokenScheme,
  BEARER_AUTHENTICATOR,
  type BearerAuthenticator,
} from './auth-metadata/bearer-authenticator';
export {
  type AuthenticationRefusal,
  type GuardRefusal,
  REFUSAL_AUDIT,
  REFUSAL_THROTTLE,
  type RefusalAudit,
  type RefusalSite,
  type RefusalThrottle,
} from './auth-metadata/guard-refusals';
export {
  type ActClaim,
  actingAgentIds,
  actingAgentsOf,
  actsOnBehalf,
  assertDirectAuthority,
  CurrentPrincipal,
  type Principal,
} from './auth-metadata/principal';
export { constantTimeEqual } from './crypto/constant-time';
export { deriveKey } from './crypto/key-derivation';
export { decrypt, DecryptionError, decryptToString, encrypt } from './crypto/aead';
export { stopOnSignals } from './lifecycle/stop-on-signals';
export {
  assertRegistrations,
  missingRegistrations,
  MissingRegistrationsError,
  providedInstance,
  type RegistryCheck,
} from './lifecycle/required-registrations';
export { activeSpanLink, inSpan, setSpanAttributes, tracingEnabled } from './tracing/spans';
export { startTracing, tracingRequested } from './tracing/tracing';
export { createInProcessRedis, isInProcessRedis } from './embedded/in-process-redis';
export { describeRuntimeMode, embeddedDataDirForDisplay } from './embedded/runtime-mode';
export { REDIS } from './redis/redis.tokens';
