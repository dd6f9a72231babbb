import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentCascadeRegistry } from './agent-cascade.registry';
import { Agent } from './agent.entity';
import { AgentsController } from './agents.controller';
import { AgentsRepository } from './agents.repository';
import { AgentsService } from './agents.service';

/** The agent hierarchy. Exports the service and the cascade registry, never the repository. */
@Module({
  imports: [TypeOrmModule.forFeature([Agent])],
  controllers: [AgentsController],
  providers: [AgentsService, AgentsRepository, AgentCascadeRegistry],
  exports: [AgentsService, AgentCascadeRegistry],
})
export class AgentsModule {}
