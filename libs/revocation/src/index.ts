// The public surface of @agentauth/revocation: only what other libs, the apps, the scripts and the tests import
// (trimmed with grep; a test that needs an internal imports it by relative path).
export { RevocationModule } from './revocation.module';
export { RevocationService, RevocationStateUnavailableError } from './revocation.service';
export {
  isRevocationKind,
  markerRevokes,
  REVOCATION_KINDS,
  type RevocationMarker,
  type RevocationRef,
} from './revocation-marker';
export { REVOCATION_KEYS } from './revocation-mirror';
export { REVOCATION_EXPIRY_GRACE_MS } from './revocation.constants';
