import { Module } from '@nestjs/common';
import { AgentsModule } from '@agentauth/agents';
import { AuditModule } from '@agentauth/audit';
import { CoreModule, HealthModule } from '@agentauth/core';
import { CredentialsModule } from '@agentauth/credentials';

@Module({
  imports: [
    CoreModule.forRoot({ serviceName: 'agentauth-api' }),
    HealthModule,
    AuditModule,
    AgentsModule,
    CredentialsModule,
  ],
  providers: [...CoreModule.httpProviders()],
})
export class ApiModule {}
