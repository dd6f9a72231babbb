import { Module } from '@nestjs/common';
import { RefreshFamiliesRetention } from './refresh-families-retention';
import { RefreshTokensRepository } from './refresh-tokens.repository';

/**
 * The one `RefreshTokensRepository` of a process (the token endpoint, the cascades and the maintenance purge
 * share it) and the purge (`RefreshFamiliesRetention`). Its own module so the maintenance registration
 * (`@agentauth/job-processors`, in either process) needs neither AuthModule nor TokenCascadesModule, which
 * register hooks once per process.
 */
@Module({
  providers: [RefreshTokensRepository, RefreshFamiliesRetention],
  exports: [RefreshTokensRepository, RefreshFamiliesRetention],
})
export class RefreshStoreModule {}
