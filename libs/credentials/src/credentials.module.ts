import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentsModule } from '@agentauth/agents';
import { ScopesModule } from '@agentauth/scope-registry';
import { ApiKeyHasher } from './api-key.hasher';
import { BootstrapController } from './bootstrap/bootstrap.controller';
import { BootstrapService } from './bootstrap/bootstrap.service';
import { CredentialExpiry } from './credential-expiry.service';
import { CredentialLifecycleRegistry } from './credential-lifecycle.registry';
import { Credential } from './credential.entity';
import { CredentialsController } from './credentials.controller';
import { CredentialsRepository } from './credentials.repository';
import { CredentialsService } from './credentials.service';
import { CredentialsStats } from './credentials-stats';

/**
 * API keys and root bootstrap. Keys authenticate clients at the OAuth endpoints only (libs/auth); the
 * management API takes access tokens (`BEARER_AUTHENTICATOR` is provided by AuthModule).
 */
@Module({
  imports: [TypeOrmModule.forFeature([Credential]), AgentsModule, ScopesModule],
  controllers: [BootstrapController, CredentialsController],
  providers: [
    CredentialsService,
    CredentialsRepository,
    CredentialsStats,
    CredentialLifecycleRegistry,
    ApiKeyHasher,
    BootstrapService,
    CredentialExpiry,
    CredentialsStats,
  ],
  exports: [CredentialsService, CredentialLifecycleRegistry, CredentialExpiry],
})
export class CredentialsModule {}
