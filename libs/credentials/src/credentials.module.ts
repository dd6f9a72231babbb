import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentsModule } from '@agentauth/agents';
import { BEARER_AUTHENTICATOR } from '@agentauth/core';
import { ScopesModule } from '@agentauth/scope-registry';
import { ApiKeyAuthenticator } from './api-key.authenticator';
import { ApiKeyHasher } from './api-key.hasher';
import { BootstrapController } from './bootstrap/bootstrap.controller';
import { BootstrapService } from './bootstrap/bootstrap.service';
import { CredentialLifecycleRegistry } from './credential-lifecycle.registry';
import { Credential } from './credential.entity';
import { CredentialsController } from './credentials.controller';
import { CredentialsRepository } from './credentials.repository';
import { CredentialsService } from './credentials.service';

/**
 * API keys and root bootstrap. Provides `BEARER_AUTHENTICATOR` with the interim API-key authenticator
 * (the token issue swaps this one provider for the JWT authenticator).
 */
@Module({
  imports: [TypeOrmModule.forFeature([Credential]), AgentsModule, ScopesModule],
  controllers: [BootstrapController, CredentialsController],
  providers: [
    CredentialsService,
    CredentialsRepository,
    CredentialLifecycleRegistry,
    ApiKeyHasher,
    ApiKeyAuthenticator,
    BootstrapService,
    { provide: BEARER_AUTHENTICATOR, useExisting: ApiKeyAuthenticator },
  ],
  exports: [CredentialsService, CredentialLifecycleRegistry, BEARER_AUTHENTICATOR],
})
export class CredentialsModule {}
