import { Module } from '@nestjs/common';
import { AgentsModule } from '@agentauth/agents';
import { CredentialsModule } from '@agentauth/credentials';
import { RevocationModule } from '@agentauth/revocation';
import { RefreshTokensRepository } from '../refresh/refresh-tokens.repository';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';
import { AfterCommit } from './after-commit';
import { TokenCascades } from './token-cascades';

/**
 * The token part of the agent and credential cascades (revocation markers, refresh families revoked), on
 * its own so every process that changes agents or credentials registers it — the API through AuthModule,
 * the worker (whose maintenance run expires agents) directly — without the token endpoint's dependencies.
 */
@Module({
  imports: [AgentsModule, CredentialsModule, RevocationModule],
  providers: [AfterCommit, TokenCascades, RefreshTokensRepository, RefreshTokensService],
  exports: [AfterCommit, RefreshTokensRepository, RefreshTokensService],
})
export class TokenCascadesModule {}
