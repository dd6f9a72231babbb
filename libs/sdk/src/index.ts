export {
  AgentAuthClient,
  type AgentAuthClientOptions,
  canonicalScope,
  type DelegateRequest,
  type Delegation,
  type ExchangeRequest,
  GRANT_TYPES,
  type IntrospectionResponse,
  TOKEN_TYPES,
  type TokenRequest,
} from './client/agentauth-client.js';
export {
  algorithmOf,
  type ClientAuthentication,
  clientSecretBasic,
  clientSecretPost,
  JWT_BEARER_ASSERTION_TYPE,
  PRIVATE_KEY_JWT_ALGS,
  type PrivateKeyInput,
  privateKeyJwt,
  type PrivateKeyJwtAlg,
  type PrivateKeyJwtOptions,
} from './client/client-authentication.js';
export {
  type AuthorizationServerMetadata,
  discover,
  managementBaseUrl,
  normalizeIssuer,
} from './client/discovery.js';
export {
  type DpopAlgorithm,
  type DpopKeyPair,
  type DpopOptions,
  DpopProver,
  type ProofTarget,
} from './client/dpop.js';
export { authorizationScheme, type TokenSet } from './client/token-set.js';
export { type Clock, systemClock } from './clock.js';
export {
  AgentAuthError,
  NetworkError,
  OAuthError,
  type ProblemDocument,
  ProblemError,
  type ProblemFieldError,
  ProtocolError,
} from './errors.js';
export { DEFAULT_RETRY_POLICY, type HttpContext, type RetryOn, type RetryPolicy } from './http.js';
export {
  createManagementClient,
  type ManagementClient,
  managementClientFor,
  type ManagementClientOptions,
  type Schema,
  unwrap,
} from './management/index.js';
export * from './resource-server/index.js';
