import { Module } from '@nestjs/common';
import { AgentsModule } from '@agentauth/agents';
import { AuditModule } from '@agentauth/audit';
import { AuthModule } from '@agentauth/auth';
import { CoreModule, HealthModule } from '@agentauth/core';
import { CredentialsModule } from '@agentauth/credentials';
import { ObservabilityModule } from '@agentauth/observability';

@Module({
  imports: [
    CoreModule.forRoot({ serviceName: 'agentauth-api' }),
    HealthModule,
    ObservabilityModule,
    AuditModule,
    AgentsModule,
    CredentialsModule,
    AuthModule,
  ],
  providers: [...CoreModule.httpProviders()],
})
export class ApiModule {}
