import { Module } from '@nestjs/common';
import { KeyRing } from './key-ring';
import { KeysController } from './keys.controller';
import { SigningKeysRepository } from './signing-keys.repository';
import { SigningKeysService } from './signing-keys.service';
import { TokenSigner } from './token-signer.service';
import { TokenVerifier } from './token-verifier.service';

/**
 * Managed signing keys, JWKS, and JWT signing/verification (docs/tokens.md, "Signing keys"). Import it once
 * per process; consumers inject `TokenSigner`, `TokenVerifier` and (worker, tests) `SigningKeysService`.
 */
@Module({
  controllers: [KeysController],
  providers: [KeyRing, SigningKeysRepository, SigningKeysService, TokenSigner, TokenVerifier],
  exports: [SigningKeysService, TokenSigner, TokenVerifier],
})
export class KeysModule {}
