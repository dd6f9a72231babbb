import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentsModule } from '@agentauth/agents';
import { RevocationModule } from '@agentauth/revocation';
import { ScopesModule } from '@agentauth/scope-registry';
import { ResourceServerDeletionRegistry } from './resource-server-deletion.registry';
import { ResourceServer } from './resource-server.entity';
import { ResourceServersController } from './resource-servers.controller';
import { ResourceServersRepository } from './resource-servers.repository';
import { ResourceServersService } from './resource-servers.service';

/**
 * Resource servers (CONTRACT §8): the API (`/resource-servers`) and the issuance lookups the token
 * endpoint's grants use. Exports the service and the deletion registry (AuthModule plugs the refresh-family
 * revocation into it). Needs AuditModule (global) in the importing app.
 */
@Module({
  imports: [TypeOrmModule.forFeature([ResourceServer]), AgentsModule, ScopesModule, RevocationModule],
  controllers: [ResourceServersController],
  providers: [ResourceServersService, ResourceServersRepository, ResourceServerDeletionRegistry],
  exports: [ResourceServersService, ResourceServerDeletionRegistry],
})
export class ResourceServersModule {}
