import { Module } from '@nestjs/common';
import { AuditModule } from '@agentauth/audit';
import { AuthModule } from '@agentauth/auth';
import { CoreModule, HealthModule } from '@agentauth/core';
import { JobsModule } from '@agentauth/jobs';
import { WebhooksModule } from '@agentauth/webhooks';

@Module({
  imports: [
    CoreModule.forRoot({ serviceName: 'agentauth-api' }),
    HealthModule,
    AuditModule,
    AuthModule,
    JobsModule,
    WebhooksModule,
  ],
  providers: [...CoreModule.httpProviders()],
})
export class ApiModule {}
