export * from './revocation.module';
export {
  RevocationService,
  RevocationStateUnavailableError,
  REVOCATION_READINESS_CHECK,
  type RebuildOutcome,
} from './revocation.service';
export {
  REVOCATION_KINDS,
  type RevocationKind,
  type RevocationRef,
  type RevocationMarker,
  markerRevokes,
  isRevocationKind,
} from './revocation-marker';
export { REVOCATION_KEYS } from './revocation-mirror';
export * from './revocation.constants';
