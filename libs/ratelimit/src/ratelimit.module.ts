import { DynamicModule, Global, Module, type ModuleMetadata, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { REFUSAL_THROTTLE } from '@agentauth/core';
import { GuardRefusalThrottle } from './guard-refusal.throttle';
import { NoRateLimitOverrides, RATE_LIMIT_OVERRIDES, type RateLimitOverrides } from './rate-limit-overrides';
import { RateLimitGuard } from './rate-limit.guard';
import { RateLimitedFilter } from './rate-limited.filter';
import { RateLimiterService } from './rate-limiter.service';

export interface RateLimitModuleOptions {
  /** Where per-agent limits come from (the agents module's provider); default: none. */
  overrides?: Type<RateLimitOverrides>;
  /** Modules the overrides provider needs (e.g. the agents module). */
  imports?: ModuleMetadata['imports'];
}

/**
 * Sliding-window rate limits. Import it in the API module AFTER CoreModule's HTTP providers are
 * registered: its global guard must run after the authentication guard (global guards run in
 * registration order; test/integration/ratelimit proves the order).
 */
@Global()
@Module({})
export class RateLimitModule {
  static forRoot(options: RateLimitModuleOptions = {}): DynamicModule {
    return {
      module: RateLimitModule,
      // Global so observability and the OAuth endpoints reach the one limiter without importing forRoot again.
      global: true,
      imports: options.imports ?? [],
      providers: [
        RateLimiterService,
        // The authentication guard (core) counts its refusals through this port: failed authentication per IP.
        { provide: REFUSAL_THROTTLE, useClass: GuardRefusalThrottle },
        { provide: RATE_LIMIT_OVERRIDES, useClass: options.overrides ?? NoRateLimitOverrides },
        { provide: APP_GUARD, useClass: RateLimitGuard },
        { provide: APP_FILTER, useClass: RateLimitedFilter },
      ],
      exports: [RateLimiterService, REFUSAL_THROTTLE],
    };
  }
}
