import { Module } from '@nestjs/common';
import { AuditModule } from '@agentauth/audit';
import { CoreModule, HealthModule } from '@agentauth/core';
import { RateLimitModule } from '@agentauth/ratelimit';

@Module({
  imports: [
    CoreModule.forRoot({ serviceName: 'agentauth-api' }),
    HealthModule,
    AuditModule,
    // after CoreModule.httpProviders(): its global guard runs after authentication
    RateLimitModule.forRoot(),
  ],
  providers: [...CoreModule.httpProviders()],
})
export class ApiModule {}
