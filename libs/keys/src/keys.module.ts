import { Module } from '@nestjs/common';
import { KEY_ROTATION_TASK } from '@agentauth/jobs';
import { KeyRing } from './key-ring';
import { SigningKeyRotationTask } from './key-rotation.task';
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
  providers: [
    KeyRing,
    SigningKeysRepository,
    SigningKeysService,
    TokenSigner,
    TokenVerifier,
    SigningKeyRotationTask,
    // What the worker's key-rotation queue runs.
    { provide: KEY_ROTATION_TASK, useExisting: SigningKeyRotationTask },
  ],
  exports: [SigningKeysService, TokenSigner, TokenVerifier, KEY_ROTATION_TASK],
})
export class KeysModule {}
