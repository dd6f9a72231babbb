// Every migration, in order. `make migrate-create` appends here.
import { AppRole1764400000000 } from './1764400000000-app-role';
import { AuditEvents1764400200000 } from './1764400200000-audit-events';
import { Agents1764400100000 } from './1764400100000-agents';
import { Credentials1764400110000 } from './1764400110000-credentials';

export const MIGRATIONS = [
  AppRole1764400000000,
  AuditEvents1764400200000,
  Agents1764400100000,
  Credentials1764400110000,
];
