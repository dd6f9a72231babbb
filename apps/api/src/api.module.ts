import { Module } from '@nestjs/common';
import { AuditModule } from '@agentauth/audit';
import { CoreModule, HealthModule } from '@agentauth/core';

@Module({
  imports: [CoreModule.forRoot({ serviceName: 'agentauth-api' }), HealthModule, AuditModule],
  providers: [...CoreModule.httpProviders()],
})
export class ApiModule {}
