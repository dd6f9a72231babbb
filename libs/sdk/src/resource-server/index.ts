export {
  authenticate,
  bearerTokenOf,
  type ChallengeParams,
  type ProtectionOptions,
  type Refusal,
  refusalFor,
  wwwAuthenticate,
} from './challenge.js';
export { type MinimalRequest, requireAgentAuth } from './express.js';
export {
  type MinimalResponse,
  protectedResourceMetadata,
  type ProtectedResourceMetadata,
  protectedResourceMetadataHandler,
  protectedResourceMetadataPath,
  protectedResourceMetadataUrl,
} from './metadata.js';
export {
  type AccessTokenClaims,
  createVerifier,
  type IntrospectionOptions,
  scopesOf,
  TokenVerificationError,
  type TokenVerifier,
  type VerificationErrorCode,
  type VerifiedToken,
  type VerifierOptions,
} from './verifier.js';
