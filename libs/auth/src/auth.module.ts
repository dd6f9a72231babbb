import { Module } from '@nestjs/common';
import { DiscoveryController } from './discovery/discovery.controller';
import { GrantRegistry } from './grants/grant-registry';
import { OAuthExceptionFilter } from './oauth/oauth-exception.filter';
import { TokenController } from './oauth/token.controller';

@Module({
  controllers: [TokenController, DiscoveryController],
  providers: [GrantRegistry, OAuthExceptionFilter],
  exports: [GrantRegistry],
})
export class AuthModule {}
