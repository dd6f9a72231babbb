import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Options as PrettierOptions } from 'prettier';
import * as prettier from 'prettier/standalone';
import * as estreePlugin from 'prettier/plugins/estree';
import * as typescriptPlugin from 'prettier/plugins/typescript';
import * as ts from 'typescript';
import { createMigration } from '../../../scripts/migration-generator';

/**
 * `make migrate-create` against a copy of the real migrations/index.ts: the new migration is imported and
 * appended as one more element (no array hole from the list's trailing comma), and both files it writes
 * pass the repository's Prettier check (`make lint`).
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const PRETTIER_OPTIONS = {
  ...(JSON.parse(fs.readFileSync(path.join(ROOT, '.prettierrc'), 'utf8')) as PrettierOptions),
  parser: 'typescript',
  plugins: [estreePlugin, typescriptPlugin],
};

const HOLE = '<hole>';

/** The MIGRATIONS list of an index.ts (an element left out between two commas is HOLE), and its imports. */
function parseIndex(source: string): { elements: string[]; imported: string[] } {
  const file = ts.createSourceFile('index.ts', source, ts.ScriptTarget.ES2022, true);
  const imported: string[] = [];
  let elements: readonly ts.Expression[] | undefined;
  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement)) {
      const bindings = statement.importClause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings))
        imported.push(...bindings.elements.map((e) => e.name.text));
    }
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (declaration.name.getText() === 'MIGRATIONS' && declaration.initializer) {
          if (!ts.isArrayLiteralExpression(declaration.initializer))
            throw new Error('MIGRATIONS is not an array');
          elements = declaration.initializer.elements;
        }
      }
    }
  }
  if (!elements) throw new Error('no MIGRATIONS list');
  return { elements: elements.map((e) => (ts.isOmittedExpression(e) ? HOLE : e.getText())), imported };
}

describe('make migrate-create (scripts/migration-generator.ts)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migration-create-'));
    fs.copyFileSync(path.join(ROOT, 'migrations', 'index.ts'), path.join(dir, 'index.ts'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('appends the new migration as one more list element, imported, with no hole', () => {
    const before = parseIndex(fs.readFileSync(path.join(dir, 'index.ts'), 'utf8'));

    const { file, className } = createMigration(dir, 'add-thing', 1799999999999);

    expect({ file, className }).toEqual({
      file: '1799999999999-add-thing',
      className: 'AddThing1799999999999',
    });
    const after = parseIndex(fs.readFileSync(path.join(dir, 'index.ts'), 'utf8'));
    expect(after.elements).not.toContain(HOLE);
    expect(after.elements).toHaveLength(before.elements.length + 1);
    expect(after.elements).toEqual([...before.elements, className]);
    expect(after.imported).toEqual([...before.imported, className]);
    expect(fs.readFileSync(path.join(dir, `${file}.ts`), 'utf8')).toContain(`export class ${className} `);
  });

  it('writes both files Prettier-clean, also for a second migration in a row', async () => {
    const first = createMigration(dir, 'add-thing', 1799999999998);
    const second = createMigration(dir, 'add-other-thing', 1799999999999);

    for (const file of ['index', first.file, second.file]) {
      const source = fs.readFileSync(path.join(dir, `${file}.ts`), 'utf8');
      expect({ file, clean: await prettier.check(source, PRETTIER_OPTIONS) }).toEqual({ file, clean: true });
    }
    const { elements } = parseIndex(fs.readFileSync(path.join(dir, 'index.ts'), 'utf8'));
    expect(elements.slice(-2)).toEqual([first.className, second.className]);
  });

  it('refuses a name that is not kebab-case and leaves the index untouched', () => {
    const index = fs.readFileSync(path.join(dir, 'index.ts'), 'utf8');
    expect(() => createMigration(dir, 'Add Thing', 1799999999999)).toThrow(/kebab-case/);
    expect(fs.readFileSync(path.join(dir, 'index.ts'), 'utf8')).toBe(index);
    expect(fs.readdirSync(dir)).toEqual(['index.ts']);
  });
});
