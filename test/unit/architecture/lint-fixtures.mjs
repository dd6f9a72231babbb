// Lints source texts given as JSON on stdin ([{filePath, code}]) with the dependency rule alone
// (eslint.boundaries.mjs, the same config `make lint` uses) and prints, per text, its messages.
// A child process of test/unit/architecture/boundaries.spec.ts: ESLint loads ES modules, which Jest's
// CommonJS sandbox cannot. The texts never exist as files, so no other lint, typecheck or build sees them.
import { ESLint } from 'eslint';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';
import { boundariesConfig } from '../../../eslint.boundaries.mjs';

const input = JSON.parse(
  await new Promise((resolve) => {
    let text = '';
    process.stdin.on('data', (chunk) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
  }),
);
const eslint = new ESLint({
  overrideConfigFile: true,
  overrideConfig: [
    { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
    ...boundariesConfig(boundaries),
  ],
});
const results = [];
for (const { filePath, code } of input) {
  const [result] = await eslint.lintText(code, { filePath });
  results.push({
    filePath,
    messages: result.messages.map((m) => ({ ruleId: m.ruleId, line: m.line, message: m.message })),
  });
}
process.stdout.write(JSON.stringify(results));
