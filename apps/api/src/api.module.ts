import { Module } from '@nestjs/common';
import { CoreModule, HealthModule } from '@agentauth/core';
import { ObservabilityModule } from '@agentauth/observability';

@Module({
  imports: [CoreModule.forRoot({ serviceName: 'agentauth-api' }), HealthModule, ObservabilityModule],
  providers: [...CoreModule.httpProviders()],
})
export class ApiModule {}
