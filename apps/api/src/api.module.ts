import { Module } from '@nestjs/common';
import { CoreModule, HealthModule } from '@agentauth/core';

@Module({
  imports: [CoreModule.forRoot({ serviceName: 'agentauth-api' }), HealthModule],
  providers: [...CoreModule.httpProviders()],
})
export class ApiModule {}
