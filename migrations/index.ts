// Every migration, in order. `make migrate-create` appends here.
import { AppRole1764400000000 } from './1764400000000-app-role';
import { AuditEvents1764400200000 } from './1764400200000-audit-events';
import { Webhooks1764400600000 } from './1764400600000-webhooks';

export const MIGRATIONS = [AppRole1764400000000, AuditEvents1764400200000, Webhooks1764400600000];
