import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ScopesModule } from '@agentauth/scope-registry';
import { AgentCascadeRegistry } from './agent-cascade.registry';
import { Agent } from './agent.entity';
import { AgentsController } from './agents.controller';
import { AgentsRepository } from './agents.repository';
import { AgentsStats } from './agents-stats';
import { AgentsService } from './agents.service';

/**
 * The agent hierarchy. Exports the service and the cascade registry, never the repository. Imports the scope
 * registry: every scope written into an agent must be registered, and a registration extends the root.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Agent]), ScopesModule],
  controllers: [AgentsController],
  providers: [AgentsService, AgentsRepository, AgentCascadeRegistry, AgentsStats],
  exports: [AgentsService, AgentCascadeRegistry],
})
export class AgentsModule {}
