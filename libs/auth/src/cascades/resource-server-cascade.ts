import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ResourceServerDeletionRegistry } from '@agentauth/resource-servers';
import { RefreshTokensService } from '../refresh/refresh-tokens.service';

/**
 * Deleting a resource server (CONTRACT §8) revokes its refresh families — in the deleting transaction, with
 * `family` markers for the access tokens minted from them. (Its access tokens die by the server's own
 * `resource_server` marker, written by ResourceServersService.) Only the API deletes resource servers, so
 * only AuthModule provides this (the worker's TokenCascadesModule does not).
 */
@Injectable()
export class ResourceServerCascade implements OnModuleInit {
  constructor(
    private readonly deletions: ResourceServerDeletionRegistry,
    private readonly refresh: RefreshTokensService,
  ) {}

  onModuleInit(): void {
    this.deletions.register('tokens', {
      onDeleted: async (manager, resourceServerId, at) => {
        await this.refresh.revokeFamilies(
          manager,
          { resourceServerIds: [resourceServerId] },
          'resource_server_deleted',
          at,
        );
      },
    });
  }
}
