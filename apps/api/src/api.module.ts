import { Module } from '@nestjs/common';
import { AgentRateLimitOverrides, AgentsModule } from '@agentauth/agents';
import { AuditModule } from '@agentauth/audit';
import { AuthModule } from '@agentauth/auth';
import { CoreModule, HealthModule } from '@agentauth/core';
import { CredentialsModule } from '@agentauth/credentials';
import { KeysModule } from '@agentauth/keys';
import { ObservabilityModule } from '@agentauth/observability';
import { PoliciesModule } from '@agentauth/policies';
import { RateLimitModule } from '@agentauth/ratelimit';
import { RevocationModule } from '@agentauth/revocation';
import { ScopesModule } from '@agentauth/scope-registry';

@Module({
  imports: [
    CoreModule.forRoot({ serviceName: 'agentauth-api' }),
    HealthModule,
    // After CoreModule.httpProviders(): its global guard runs after authentication.
    AgentsModule,
    AuditModule,
    AuthModule,
    CredentialsModule,
    KeysModule,
    ObservabilityModule,
    PoliciesModule,
    RateLimitModule.forRoot({ imports: [AgentsModule], overrides: AgentRateLimitOverrides }),
    RevocationModule,
    ScopesModule,
  ],
  providers: [...CoreModule.httpProviders()],
})
export class ApiModule {}
