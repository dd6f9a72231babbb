import { Module } from '@nestjs/common';
import { AuditModule } from '@agentauth/audit';
import { AuthModule } from '@agentauth/auth';
import { CoreModule, HealthModule } from '@agentauth/core';
import { ObservabilityModule } from '@agentauth/observability';

@Module({
  imports: [
    CoreModule.forRoot({ serviceName: 'agentauth-api' }),
    HealthModule,
    ObservabilityModule,
    AuditModule,
    AuthModule,
  ],
  providers: [...CoreModule.httpProviders()],
})
export class ApiModule {}
