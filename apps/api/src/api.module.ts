import { Module } from '@nestjs/common';
import { AgentRateLimitOverrides, AgentsModule } from '@agentauth/agents';
import { AuditModule } from '@agentauth/audit';
import { AuthModule } from '@agentauth/auth';
import { CoreModule, HealthModule } from '@agentauth/core';
import { CredentialsModule } from '@agentauth/credentials';
import { ObservabilityModule } from '@agentauth/observability';
import { RateLimitModule } from '@agentauth/ratelimit';

@Module({
  imports: [
    CoreModule.forRoot({ serviceName: 'agentauth-api' }),
    HealthModule,
    ObservabilityModule,
    AuditModule,
    AgentsModule,
    CredentialsModule,
    AuthModule,
    // After CoreModule.httpProviders(): its global guard runs after authentication.
    RateLimitModule.forRoot({ imports: [AgentsModule], overrides: AgentRateLimitOverrides }),
  ],
  providers: [...CoreModule.httpProviders()],
})
export class ApiModule {}
