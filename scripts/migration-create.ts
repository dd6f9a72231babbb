/**
 * `make migrate-create NAME=add-thing`: writes migrations/<timestamp>-<name>.ts with an empty up/down and
 * registers it in migrations/index.ts (migrations are listed explicitly, never globbed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const name = (process.argv[2] ?? '').trim();
if (!/^[a-z][a-z0-9-]*$/.test(name)) {
  console.error('usage: make migrate-create NAME=kebab-case-name');
  process.exit(2);
}
const timestamp = Date.now();
const className = `${name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase())}${timestamp}`;
const dir = path.resolve(__dirname, '..', '..', 'migrations');
const file = `${timestamp}-${name}`;
fs.writeFileSync(
  path.join(dir, `${file}.ts`),
  `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ${className} implements MigrationInterface {
  name = '${className}';

  async up(q: QueryRunner): Promise<void> {
    await q.query(\`SELECT 1\`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(\`SELECT 1\`);
  }
}
`,
);
const indexFile = path.join(dir, 'index.ts');
let index = fs.readFileSync(indexFile, 'utf8');
index = index.replace(
  /\nexport const MIGRATIONS = \[/,
  `import { ${className} } from './${file}';\n\nexport const MIGRATIONS = [`,
);
index = index.replace(/\];\s*$/, `, ${className}];\n`);
fs.writeFileSync(indexFile, index);
console.log(`created migrations/${file}.ts`);
