import { Module } from '@nestjs/common';
import { AgentsModule } from '@agentauth/agents';
import { CredentialsModule } from '@agentauth/credentials';
import { DelegationsModule } from '@agentauth/delegations';
import { RevocationModule } from '@agentauth/revocation';
import { RefreshStoreModule } from '../refresh/refresh-store.module';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';
import { TokenCascades } from './token-cascades';

/**
 * The token part of the agent and credential cascades (revocation markers, refresh families revoked) for a
 * process without the token endpoint: the worker, whose maintenance run expires agents. AuthModule provides
 * the same classes itself (the API imports AuthModule, never this module; the worker never AuthModule), so
 * exactly one TokenCascades registers its hooks per process.
 */
@Module({
  imports: [AgentsModule, CredentialsModule, DelegationsModule, RevocationModule, RefreshStoreModule],
  providers: [TokenCascades, RefreshTokensService],
  exports: [RefreshStoreModule, RefreshTokensService],
})
export class TokenCascadesModule {}
