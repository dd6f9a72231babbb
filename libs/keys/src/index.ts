export * from './keys.module';
export * from './keys.constants';
export { SigningKeysService, type AdvanceResult, type SigningKeyInfo } from './signing-keys.service';
export type { SigningKeyState } from './signing-keys.repository';
export {
  TokenSigner,
  SigningKeyUnavailableError,
  ACCESS_TOKEN_TYP,
  DELEGATION_TOKEN_TYP,
  type TokenTyp,
  type TokenClaims,
  type AccessTokenClaims,
  type SignedClaims,
  type SignedToken,
} from './token-signer.service';
export {
  TokenVerifier,
  type VerifyOptions,
  type VerifiedClaims,
  type VerifiedToken,
} from './token-verifier.service';
export { InvalidTokenError, type InvalidTokenReason } from './invalid-token.error';
export {
  type PublicSigningJwk,
  signingKeyEncryptionKey,
  SIGNING_KEY_ENCRYPTION_PURPOSE,
  SIGNING_ALG,
} from './key-material';
export { SigningKeyRotationTask } from './key-rotation.task';
