export {
  authenticate,
  bearerTokenOf,
  type ChallengeParams,
  credentialsOf,
  presentedRequestOf,
  type ProtectionOptions,
  type Refusal,
  refusalFor,
  type RequestLike,
  requestUrlOf,
  wwwAuthenticate,
} from './challenge.js';
export {
  accessTokenHash,
  DPOP_ALGORITHMS,
  type DpopCheckOptions,
  DpopProofError,
  DpopReplayCache,
  type DpopRequest,
  normalizeHtu,
  verifyDpopProof,
} from './dpop.js';
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
  type PresentedRequest,
  scopesOf,
  TokenVerificationError,
  type TokenVerifier,
  type VerificationErrorCode,
  type VerifiedToken,
  type VerifierOptions,
} from './verifier.js';
