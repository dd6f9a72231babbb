import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentsModule } from '@agentauth/agents';
import { KeysModule } from '@agentauth/keys';
import { RevocationModule } from '@agentauth/revocation';
import { ScopesModule } from '@agentauth/scope-registry';
import { Delegation } from './delegation.entity';
import { DelegationRevocationRegistry } from './delegation-revocation.registry';
import { DelegationsController } from './delegations.controller';
import { DelegationsRepository } from './delegations.repository';
import { DelegationsService } from './delegations.service';

/**
 * Delegation chains (docs/delegations.md). Exports the service (the `agent_delegation` grant's read API),
 * never the repository. Registers the delegations side of agent deactivation with `AgentCascadeRegistry`.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Delegation]), AgentsModule, KeysModule, RevocationModule, ScopesModule],
  controllers: [DelegationsController],
  providers: [DelegationsService, DelegationsRepository, DelegationRevocationRegistry],
  exports: [DelegationsService, DelegationRevocationRegistry],
})
export class DelegationsModule {}
