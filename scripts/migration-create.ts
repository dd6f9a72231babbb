/**
 * `make migrate-create NAME=add-thing`: writes migrations/<timestamp>-<name>.ts with an empty up/down and
 * registers it in migrations/index.ts (migrations are listed explicitly, never globbed). The logic is in
 * scripts/migration-generator.ts.
 */
import * as path from 'node:path';
import { createMigration, MIGRATION_NAME_PATTERN } from './migration-generator';

const name = (process.argv[2] ?? '').trim();
if (!MIGRATION_NAME_PATTERN.test(name)) {
  console.error('usage: make migrate-create NAME=kebab-case-name');
  process.exit(2);
}
// Compiled to dist/scripts/: the sources' migrations/ is two levels up.
const { file } = createMigration(path.resolve(__dirname, '..', '..', 'migrations'), name, Date.now());
console.log(`created migrations/${file}.ts`);
