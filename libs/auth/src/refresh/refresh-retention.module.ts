import { Module } from '@nestjs/common';
import { RefreshFamiliesRetention } from './refresh-families-retention';
import { RefreshTokensRepository } from './refresh-tokens.repository';

/**
 * The refresh-token purge alone (stateless repository + `RefreshFamiliesRetention`), for the maintenance
 * job's registration (`@agentauth/job-processors`) in either process, without the token endpoint
 * (AuthModule) or the cascades (TokenCascadesModule), which register hooks once per process.
 */
@Module({
  providers: [RefreshTokensRepository, RefreshFamiliesRetention],
  exports: [RefreshFamiliesRetention],
})
export class RefreshRetentionModule {}
