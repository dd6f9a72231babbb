import { Module } from '@nestjs/common';
import { AgentRateLimitOverrides, AgentsModule } from '@agentauth/agents';
import { AuditModule } from '@agentauth/audit';
import { AuthModule } from '@agentauth/auth';
import { CoreModule, HealthModule } from '@agentauth/core';
import { CredentialsModule } from '@agentauth/credentials';
import { DelegationsModule } from '@agentauth/delegations';
import { JobProcessorsModule } from '@agentauth/job-processors';
import { JobsModule } from '@agentauth/jobs';
import { KeysModule } from '@agentauth/keys';
import { ObservabilityModule } from '@agentauth/observability';
import { PoliciesModule } from '@agentauth/policies';
import { RateLimitModule } from '@agentauth/ratelimit';
import { ResourceServersModule } from '@agentauth/resource-servers';
import { RevocationModule } from '@agentauth/revocation';
import { ScopesModule } from '@agentauth/scope-registry';
import { WebhooksModule } from '@agentauth/webhooks';
import { MIGRATIONS } from '../../../migrations';
import { ApiWiringCheck } from './boot-wiring.check';

@Module({
  imports: [
    // With DATABASE_URL unset (embedded mode) core starts PGlite and applies these migrations itself.
    CoreModule.forRoot({ serviceName: 'agentauth-api', embeddedMigrations: MIGRATIONS }),
    // The OAuth endpoints' routes first: Express's router tries every route registered before the one that
    // matches, in order, so the hottest routes are registered before the management API's (docs/performance.md).
    AuthModule,
    HealthModule,
    ObservabilityModule,
    AuditModule,
    KeysModule,
    RevocationModule,
    ScopesModule,
    AgentsModule,
    CredentialsModule,
    PoliciesModule,
    DelegationsModule,
    ResourceServersModule,
    JobsModule,
    WebhooksModule,
    // The job handlers: run in this process by the embedded mode's in-process jobs (REDIS_URL unset);
    // registered but unused with Redis, where the worker process consumes the queues.
    JobProcessorsModule,
    // Its global guard is registered after CoreModule.httpProviders()' authentication guard, so it runs second.
    RateLimitModule.forRoot({ imports: [AgentsModule], overrides: AgentRateLimitOverrides }),
  ],
  // ApiWiringCheck: refuses to start unless every cascade hook and job processor above is registered.
  providers: [...CoreModule.httpProviders(), ApiWiringCheck],
})
export class ApiModule {}
