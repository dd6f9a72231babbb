import { Module } from '@nestjs/common';
import { AuditModule } from '@agentauth/audit';
import { CoreModule, HealthModule } from '@agentauth/core';
import { KeysModule } from '@agentauth/keys';
import { RevocationModule } from '@agentauth/revocation';

@Module({
  imports: [
    CoreModule.forRoot({ serviceName: 'agentauth-api' }),
    HealthModule,
    AuditModule,
    KeysModule,
    RevocationModule,
  ],
  providers: [...CoreModule.httpProviders()],
})
export class ApiModule {}
