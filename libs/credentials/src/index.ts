// The public surface of @agentauth/credentials: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export { CredentialsModule } from './credentials.module';
export { CredentialsService, type VerifiedApiKey, type VerifiedCredential } from './credentials.service';
export { InvalidClientCredentials } from './credentials.errors';
export { CredentialLifecycleRegistry } from './credential-lifecycle.registry';
export { CredentialExpiry } from './credential-expiry.service';
export { credentialEndsAt } from './credential-rules';
export {
  ACCEPTED_JWS_ALGS,
  importPublicJwk,
  InvalidJwkError,
  keyAlgOfJwsAlg,
  parsePublicJwk,
  type PublicKeyAlg,
} from './public-key';
