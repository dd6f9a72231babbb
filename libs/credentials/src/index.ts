export * from './credentials.module';
export * from './credentials.service';
export * from './credentials.errors';
export * from './credential-lifecycle.registry';
export { CredentialExpiry } from './credential-expiry.service';
export { type CredentialState, credentialState, credentialEndsAt } from './credential-rules';
export { type Credential, type CredentialStatus, CREDENTIAL_STATUSES } from './credential.entity';
export { parseApiKey, maskApiKey, type ParsedApiKey } from './api-key';
export { credentialView, CredentialResponse } from './dto/credential.response';
export { type CredentialType, CREDENTIAL_TYPES } from './credential.entity';
export {
  PUBLIC_KEY_ALGS,
  type PublicKeyAlg,
  isPublicKeyAlg,
  ACCEPTED_JWS_ALGS,
  type AcceptedJwsAlg,
  keyAlgOfJwsAlg,
  PRIVATE_JWK_MEMBERS,
  InvalidJwkError,
  type ParsedPublicKey,
  parsePublicJwk,
  importPublicJwk,
} from './public-key';
