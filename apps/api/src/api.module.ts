import { Module } from '@nestjs/common';
import { AgentRateLimitOverrides, AgentsModule } from '@agentauth/agents';
import { AuditModule } from '@agentauth/audit';
import { AuthModule } from '@agentauth/auth';
import { CoreModule, HealthModule } from '@agentauth/core';
import { CredentialsModule } from '@agentauth/credentials';
import { DelegationsModule } from '@agentauth/delegations';
import { KeysModule } from '@agentauth/keys';
import { ObservabilityModule } from '@agentauth/observability';
import { RateLimitModule } from '@agentauth/ratelimit';
import { RevocationModule } from '@agentauth/revocation';

@Module({
  imports: [
    CoreModule.forRoot({ serviceName: 'agentauth-api' }),
    HealthModule,
    // After CoreModule.httpProviders(): its global guard runs after authentication.
    AgentsModule,
    AuditModule,
    AuthModule,
    CredentialsModule,
    DelegationsModule,
    KeysModule,
    ObservabilityModule,
    RateLimitModule.forRoot({ imports: [AgentsModule], overrides: AgentRateLimitOverrides }),
    RevocationModule,
  ],
  providers: [...CoreModule.httpProviders()],
})
export class ApiModule {}
