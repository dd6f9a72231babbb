// Every migration, in order. `make migrate-create` appends here.
import { AppRole1764400000000 } from './1764400000000-app-role';

export const MIGRATIONS = [AppRole1764400000000];
