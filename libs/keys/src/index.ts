// The public surface of @agentauth/keys: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export { KeysModule } from './keys.module';
export { CLOCK_SKEW_SECONDS, KEY_PROPAGATION_SECONDS } from './keys.constants';
export { SigningKeysService } from './signing-keys.service';
export {
  ACCESS_TOKEN_TYP,
  DELEGATION_TOKEN_TYP,
  type SignedToken,
  SigningKeyUnavailableError,
  TokenSigner,
} from './token-signer.service';
export { TokenVerifier, type VerifiedClaims } from './token-verifier.service';
export { InvalidTokenError, type InvalidTokenReason } from './invalid-token.error';
export { signingKeyEncryptionKey } from './key-material';
