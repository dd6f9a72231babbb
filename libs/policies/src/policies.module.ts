import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentsModule } from '@agentauth/agents';
import { PoliciesController } from './policies.controller';
import { PoliciesRepository } from './policies.repository';
import { PoliciesService } from './policies.service';
import { Policy } from './policy.entity';
import { PolicyDecisionService } from './policy-decision.service';

/**
 * Policies: the API (`/policies`, `/policies/evaluate`) and `PolicyDecisionService`, the cached,
 * cross-process-invalidated front of the one evaluator that token issuance also uses. Exports the decision
 * service only.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Policy]), AgentsModule],
  controllers: [PoliciesController],
  providers: [PoliciesService, PoliciesRepository, PolicyDecisionService],
  exports: [PolicyDecisionService],
})
export class PoliciesModule {}
