// Every migration, in order. `make migrate-create` appends here.
import { AppRole1764400000000 } from './1764400000000-app-role';
import { AuditEvents1764400200000 } from './1764400200000-audit-events';
import { SigningKeys1764400300000 } from './1764400300000-signing-keys';
import { Revocations1764400310000 } from './1764400310000-revocations';

export const MIGRATIONS = [
  AppRole1764400000000,
  AuditEvents1764400200000,
  SigningKeys1764400300000,
  Revocations1764400310000,
];
