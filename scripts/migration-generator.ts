/**
 * The logic behind `make migrate-create` (scripts/migration-create.ts is its command line): the new
 * migration's names and source, and its registration in migrations/index.ts. Pure string functions plus one
 * `createMigration` that writes the two files, so a test can run it against a copy of the real index.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface MigrationNames {
  /** `<timestamp>-<name>`: the file name without `.ts`. */
  file: string;
  /** `<PascalName><timestamp>`: the exported class, also TypeORM's migration name. */
  className: string;
}

export const MIGRATION_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;

export function migrationNames(name: string, timestamp: number): MigrationNames {
  if (!MIGRATION_NAME_PATTERN.test(name)) throw new Error(`migration name must be kebab-case, got "${name}"`);
  const pascal = name.replace(/(^|-)([a-z0-9])/g, (_m, _dash, c: string) => c.toUpperCase());
  return { file: `${timestamp}-${name}`, className: `${pascal}${timestamp}` };
}

export function migrationSource(className: string): string {
  return `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(q: QueryRunner): Promise<void> {
    await q.query(\`SELECT 1\`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(\`SELECT 1\`);
  }
}
`;
}

const LIST_START = '\nexport const MIGRATIONS = [';
/** The closing bracket of the list: the list is formatted one entry a line, with a trailing comma. */
const LIST_END = /\n\];\s*$/;

/**
 * migrations/index.ts with the new migration imported after the last import and appended as the last entry
 * of MIGRATIONS, in the file's own (Prettier) layout: one entry a line, trailing comma.
 */
export function registerMigration(indexSource: string, { file, className }: MigrationNames): string {
  if (!indexSource.includes(LIST_START) || !LIST_END.test(indexSource)) {
    throw new Error('migrations/index.ts does not end with the `export const MIGRATIONS = [ … ];` list');
  }
  return indexSource
    .replace(LIST_START, `import { ${className} } from './${file}';\n${LIST_START}`)
    .replace(LIST_END, `\n  ${className},\n];\n`);
}

/** Writes `<dir>/<file>.ts` and registers it in `<dir>/index.ts`; returns the names used. */
export function createMigration(dir: string, name: string, timestamp: number): MigrationNames {
  const names = migrationNames(name, timestamp);
  const indexFile = path.join(dir, 'index.ts');
  const index = registerMigration(fs.readFileSync(indexFile, 'utf8'), names);
  fs.writeFileSync(path.join(dir, `${names.file}.ts`), migrationSource(names.className), { flag: 'wx' });
  fs.writeFileSync(indexFile, index);
  return names;
}
